"""A service's read-model inputs, read back from its own store in the order they were applied live.

Two logs feed a service's read models:

- its own events (`events`, projected by `projector` in the appending transaction);
- the consumed envelopes its inbox marked `applied` (projected by `consumed_projector` in the
  consuming transaction). Parked envelopes had no effect and are skipped.

Merge order. Each log keeps its own order (events by `position`, inbox rows by `position`: the
order of insertion, which within one stream is the version order). The two are interleaved by
transaction time, `events.recorded_at` against `inbox.consumed_at` (both PostgreSQL `now()`,
the start of the writing transaction); on a tie the inbox row goes first, because a consuming
transaction inserts its inbox rows before the handler appends the events they cause. The merge
is a two-way merge, not a sort: a log's rows are never reordered among themselves, so a stream
is always replayed in version order even where concurrent transactions started out of order.

The interleaving only matters when a consumed effect and an own event touch the same rows. The
registry's consumed seats (allocation's and enrollment's outcomes) update its `nominations` rows,
which its own events write too; they touch different columns (`seat`, `held_by` against the
nomination's status and fields), and a seat applies only to a validated nomination, so the
replayed table still equals the live one (tests/integration/audit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.envelope import Envelope
from libs.eventstore.store import row_to_envelope
from libs.eventstore.tables import EventStoreTables
from libs.privacy.envelopes import open_envelopes
from libs.privacy.vault import KeyVault

Origin = Literal["own", "consumed"]
PAGE = 5_000


@dataclass(frozen=True, slots=True)
class Applied:
    """One input of the read models: an envelope, which log it came from, when it was applied."""

    envelope: Envelope
    origin: Origin
    at: datetime | None  # recorded_at / consumed_at (None when read from Kafka)
    position: int | None  # events.position / inbox.position (None when read from Kafka)


async def own_events(
    conn: AsyncConnection,
    tables: EventStoreTables,
    *,
    as_of: datetime | None = None,
    page: int = PAGE,
    vault: KeyVault | None = None,
) -> AsyncIterator[Applied]:
    """The service's own events in position order (recorded at or before `as_of`, when given),
    personal fields opened with `vault` (FORGOTTEN where a key is gone, or without a vault)."""
    events = tables.events
    last = 0
    while True:
        query = select(events).where(events.c.position > last)
        if as_of is not None:
            query = query.where(events.c.recorded_at <= as_of)
        rows = (await conn.execute(query.order_by(events.c.position).limit(page))).all()
        if not rows:
            return
        opened = await open_envelopes(conn, vault, [row_to_envelope(row) for row in rows])
        for row, envelope in zip(rows, opened, strict=True):
            yield Applied(envelope, "own", row.recorded_at, row.position)
        last = rows[-1].position


async def consumed_envelopes(
    conn: AsyncConnection,
    tables: EventStoreTables,
    *,
    as_of: datetime | None = None,
    page: int = PAGE,
    vault: KeyVault | None = None,
) -> AsyncIterator[Applied]:
    """Envelopes the inbox marked `applied`, in inbox position order (parked ones are skipped),
    personal fields opened as in `own_events`."""
    inbox = tables.inbox
    last = 0
    while True:
        query = select(inbox).where(inbox.c.position > last, inbox.c.outcome == "applied")
        if as_of is not None:
            query = query.where(inbox.c.consumed_at <= as_of)
        rows = (await conn.execute(query.order_by(inbox.c.position).limit(page))).all()
        if not rows:
            return
        opened = await open_envelopes(conn, vault, [Envelope.model_validate(row.envelope) for row in rows])
        for row, envelope in zip(rows, opened, strict=True):
            yield Applied(envelope, "consumed", row.consumed_at, row.position)
        last = rows[-1].position


async def _nothing() -> AsyncIterator[Applied]:
    return
    yield  # pragma: no cover  (makes this an async generator)


async def in_applied_order(
    own: AsyncIterator[Applied], consumed: AsyncIterator[Applied] | None = None
) -> AsyncIterator[Applied]:
    """Interleave the two logs by transaction time, inbox first on ties (see the module doc)."""
    consumed = consumed if consumed is not None else _nothing()
    o = await anext(own, None)
    c = await anext(consumed, None)
    while o is not None or c is not None:
        if c is not None and (o is None or _not_later(c, o)):
            yield c
            c = await anext(consumed, None)
        else:
            assert o is not None
            yield o
            o = await anext(own, None)


def _not_later(consumed: Applied, own: Applied) -> bool:
    if consumed.at is None or own.at is None:
        raise ValueError("merging by transaction time needs both timestamps")
    return consumed.at <= own.at


async def count_inputs(
    conn: AsyncConnection, tables: EventStoreTables, *, as_of: datetime | None, with_consumed: bool
) -> tuple[int, int]:
    """How many own events and applied inbox envelopes a store replay will apply."""
    events, inbox = tables.events, tables.inbox
    own = select(func.count()).select_from(events)
    if as_of is not None:
        own = own.where(events.c.recorded_at <= as_of)
    consumed = 0
    if with_consumed:
        query = select(func.count()).select_from(inbox).where(inbox.c.outcome == "applied")
        if as_of is not None:
            query = query.where(inbox.c.consumed_at <= as_of)
        consumed = int((await conn.execute(query)).scalar_one())
    return int((await conn.execute(own)).scalar_one()), consumed
