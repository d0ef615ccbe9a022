"""Pruning of sent outbox rows after a retention period (docs/security.md, "Forgetting a person").

An outbox row is the copy of a stored event waiting to be published; once the broker has it
(`sent_at`), the row is kept only so that a new, empty cluster can be filled again (the relay
re-sends every row then) and for `lindung audit verify` to compare it with the event. After
LINDUNG_PRIVACY_OUTBOX_RETENTION_HOURS the row goes: the event store keeps the event, the topic
keeps the message for its own retention.

Not pruned where the outbox is the recovery path: with LINDUNG_REPUBLISH_ON_START (the embedded
broker forgets everything on stop, and the stack fills it again from the outboxes).

Dead letters of foreign topics (a regency system's nomination, BPJS's messages: in clear, kept as
evidence and for re-driving) go after LINDUNG_PRIVACY_FOREIGN_DEAD_LETTER_RETENTION_DAYS.

The inbox is not pruned: it is the exactly-once guard (a message re-sent after its row went
would be applied twice) and the input log `lindung audit replay` rebuilds read models from. What
it holds of a person is covered by the person's key instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.topics import FOREIGN_TOPICS
from libs.eventstore.tables import EventStoreTables
from libs.settings import Settings

if TYPE_CHECKING:
    from libs.runtime.service import Runtime

log = logging.getLogger(__name__)

# Rows deleted per statement: short transactions, no long lock on the relay's table.
PRUNE_BATCH = 5000


def outbox_retention(settings: Settings) -> timedelta | None:
    """How long a sent outbox row is kept, or None: kept for ever (no setting, or the outbox is
    what refills the embedded broker)."""
    hours = settings.privacy_outbox_retention_hours
    if hours <= 0 or settings.republish_on_start:
        return None
    return timedelta(hours=hours)


async def prune_sent(conn: AsyncConnection, tables: EventStoreTables, sent_before: datetime) -> int:
    """Delete up to PRUNE_BATCH outbox rows sent before `sent_before`; how many went. Unsent rows
    are never touched."""
    outbox = tables.outbox
    oldest = (
        select(outbox.c.id)
        .where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < sent_before)
        .order_by(outbox.c.id)
        .limit(PRUNE_BATCH)
    )
    result = await conn.execute(delete(outbox).where(outbox.c.id.in_(oldest.scalar_subquery())))
    return int(result.rowcount or 0)


def foreign_dead_letter_retention(settings: Settings) -> timedelta | None:
    """How long a parked foreign message (in clear: a regency system's nomination, BPJS's
    message) is kept in `dead_letters`, or None: kept for ever."""
    days = settings.privacy_foreign_dead_letter_retention_days
    return timedelta(days=days) if days > 0 else None


async def prune_foreign_dead_letters(
    conn: AsyncConnection, tables: EventStoreTables, parked_before: datetime
) -> int:
    """Delete up to PRUNE_BATCH dead letters from foreign topics parked before `parked_before`."""
    dead = tables.dead_letters
    oldest = (
        select(dead.c.id)
        .where(dead.c.topic.in_(sorted(FOREIGN_TOPICS)), dead.c.parked_at < parked_before)
        .order_by(dead.c.id)
        .limit(PRUNE_BATCH)
    )
    result = await conn.execute(delete(dead).where(dead.c.id.in_(oldest.scalar_subquery())))
    return int(result.rowcount or 0)


PruneBatch = Callable[[AsyncConnection, EventStoreTables, datetime], Awaitable[int]]


async def _prune_until_done(rt: Runtime, retention: timedelta, prune: PruneBatch) -> int:
    """`prune` batches older than `retention` (by the database's clock), one transaction each,
    until a batch comes back short; how many rows went in all."""
    total = 0
    while True:
        async with rt.engine.begin() as conn:
            now = (await conn.execute(select(func.now()))).scalar_one()
            pruned = await prune(conn, rt.definition.tables, now - retention)
        total += pruned
        if pruned < PRUNE_BATCH:
            return total


async def prune_outbox(rt: Runtime, retention: timedelta) -> int:
    """Every sent row older than `retention`, in batches."""
    return await _prune_until_done(rt, retention, prune_sent)


async def prune_dead_letters(rt: Runtime, retention: timedelta) -> int:
    """Every foreign dead letter older than `retention`, in batches."""
    return await _prune_until_done(rt, retention, prune_foreign_dead_letters)


def scheduled_pruning(rt: Runtime) -> Coroutine[Any, Any, None] | None:
    """The service's pruning loop, or None when nothing is to be pruned."""
    retention = outbox_retention(rt.settings)
    if retention is None and rt.settings.privacy_outbox_retention_hours > 0:
        log.warning(
            "%s: sent outbox rows are kept (LINDUNG_REPUBLISH_ON_START refills the broker from them)",
            rt.definition.name,
        )
    dead = foreign_dead_letter_retention(rt.settings)
    if retention is None and dead is None:
        return None
    return _pruning_loop(rt, retention, dead, rt.settings.privacy_prune_interval_s)


async def _pruning_loop(
    rt: Runtime, retention: timedelta | None, dead: timedelta | None, interval_s: float
) -> None:
    while True:
        try:
            pruned = await prune_outbox(rt, retention) if retention is not None else 0
            parked = await prune_dead_letters(rt, dead) if dead is not None else 0
            if pruned or parked:
                log.info(
                    "%s: %d sent outbox rows and %d foreign dead letters pruned",
                    rt.definition.name,
                    pruned,
                    parked,
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: pruning the outbox failed (tried again later)", rt.definition.name)
        await asyncio.sleep(interval_s)
