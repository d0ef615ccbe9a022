"""Sending held answers when due, and outages: the two clocks of the simulator.

Answers are decided when a request is consumed (see handlers.py) and kept in `held_messages`
with the instant they are due. `release_loop` moves due messages into the event store, whose
outbox the relay publishes, oldest due first, so a delay on one answer never holds up another.

An outage (`POST /control/outage?seconds=N`) sets `control.outage_until`. Until then the
simulator neither consumes (its consumer's partitions are paused: requests wait in Kafka) nor
answers (nothing is released). When it ends, the consumer resumes and every answer that fell due
meanwhile is sent: late, but sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.catalog import contract_for
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH
from libs.runtime.service import Runtime
from services.bpjs_simulator.adapters.tables import control, held_messages

log = logging.getLogger(__name__)

RELEASE_BATCH = 500
OUTAGE_REFRESH_S = 1.0
OUTAGE_TICK_S = 0.1
RELEASE_IDLE_S = 1.0


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class OutageState:
    """This process's view of the control row (refreshed from the database)."""

    until: datetime | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when held messages may be due now (a batch committed, a claim pushed, an outage ended).
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def active(self, now: datetime | None = None) -> bool:
        return self.until is not None and (now or real_now()) < self.until


async def start_outage(engine: AsyncEngine, seconds: float) -> datetime | None:
    """Begin (or extend) an outage of `seconds` from now; 0 ends any outage. Returns its end."""
    until = real_now() + timedelta(seconds=seconds) if seconds > 0 else None
    async with engine.begin() as conn:
        stmt = insert(control).values(id=1, outage_until=until, outages=1 if until else 0)
        if until is None:
            stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={"outage_until": None})
        else:
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "outage_until": func.greatest(control.c.outage_until, until),
                    "outages": control.c.outages + 1,
                },
            )
        await conn.execute(stmt)
        end: datetime | None = (
            await conn.execute(select(control.c.outage_until).where(control.c.id == 1))
        ).scalar_one()
        return end


async def read_outage(engine: AsyncEngine) -> datetime | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(control.c.outage_until).where(control.c.id == 1))).first()
    return None if row is None else row.outage_until


async def release_due(rt: Runtime, limit: int = RELEASE_BATCH) -> int:
    """Move due held messages into the event store (and so the outbox); return how many."""
    now = real_now()
    async with rt.engine.begin() as conn:
        rows = (
            await conn.execute(
                select(held_messages)
                .where(held_messages.c.released_at.is_(None), held_messages.c.due_at <= now)
                .order_by(held_messages.c.due_at, held_messages.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        # One query for every stream's head instead of one per message: the rows are locked,
        # and a writer that appended since is refused by the store's unique constraint.
        heads = await rt.store.heads(conn, [row.stream for row in rows])
        for row in rows:
            event = contract_for(row.event_type).model_validate(row.payload)
            version, last_hash = heads.get(row.stream, (0, GENESIS_HASH))
            appended = await rt.store.append_chained(
                conn,
                row.stream,
                [event],
                expected_version=version,
                expected_hash=last_hash,
                correlation_id=row.correlation_id,
                causation_id=row.causation_id,
            )
            heads[row.stream] = (appended.version, appended.last_hash)
        if rows:
            await conn.execute(
                update(held_messages)
                .where(held_messages.c.id.in_([r.id for r in rows]))
                .values(released_at=now)
            )
    if rows:
        rt.relay.wake()
    return len(rows)


def _consumers(rt: Runtime) -> list[Any]:
    if rt.broker is None:
        return []
    found = [getattr(sub, "consumer", None) for sub in rt.broker.subscribers]
    return [c for c in found if c is not None]


def pause_consumption(rt: Runtime) -> int:
    """Pause every partition the consumer holds (again after a rebalance); return how many."""
    paused = 0
    for consumer in _consumers(rt):
        partitions = set(consumer.assignment()) - set(consumer.paused())
        if partitions:
            consumer.pause(*partitions)
        paused += len(consumer.paused())
    return paused


def resume_consumption(rt: Runtime) -> None:
    for consumer in _consumers(rt):
        partitions = consumer.paused()
        if partitions:
            consumer.resume(*partitions)


def outage_of(rt: Runtime) -> OutageState:
    state = getattr(rt.definition.handler, "outage", None)
    assert isinstance(state, OutageState), "the simulator's handler keeps the outage state"
    return state


async def outage_loop(rt: Runtime) -> None:
    """Keep the consumer paused while an outage is in force, and resume it after."""
    state = outage_of(rt)
    loop = asyncio.get_running_loop()
    refreshed = 0.0
    was_active = False
    while True:
        try:
            if state.changed.is_set() or loop.time() - refreshed > OUTAGE_REFRESH_S:
                state.changed.clear()
                until = await read_outage(rt.engine)
                if not state.changed.is_set():  # else the control route changed it meanwhile: re-read
                    state.until = until
                refreshed = loop.time()
            if state.active():
                pause_consumption(rt)
                if not was_active:
                    log.warning("BPJS simulator outage until %s: not consuming, not answering", state.until)
                was_active = True
            elif was_active:
                resume_consumption(rt)
                was_active = False
                log.warning("BPJS simulator outage over: consuming and answering again")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be down: keep the last known state
            log.warning("outage check failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.changed.wait(), timeout=OUTAGE_TICK_S)


async def next_due(engine: AsyncEngine) -> datetime | None:
    """When the earliest held message falls due (None: nothing held)."""
    async with engine.connect() as conn:
        due: datetime | None = (
            await conn.execute(
                select(func.min(held_messages.c.due_at)).where(held_messages.c.released_at.is_(None))
            )
        ).scalar_one()
    return due


def wake_on_commit(rt: Runtime, wake: asyncio.Event) -> None:
    """Also set `wake` whenever the consumer commits a batch (it may have held new answers)."""
    consumer = rt.consumer
    if consumer is None:
        return
    relay_wake = consumer.on_commit

    def on_commit() -> None:
        relay_wake()
        wake.set()

    consumer.on_commit = on_commit


async def release_loop(rt: Runtime) -> None:
    """Send held answers as they fall due, except during an outage.

    Sleeps until the earliest answer is due, or until the consumer commits a batch (which may
    have held an answer due at once), or at most RELEASE_IDLE_S (answers held by another
    instance); never less than `bpjs_release_interval_ms` between rounds."""
    state = outage_of(rt)
    wake = state.release
    wake_on_commit(rt, wake)
    interval = rt.settings.bpjs_release_interval_ms / 1000
    while True:
        timeout = RELEASE_IDLE_S
        try:
            if state.active():
                timeout = OUTAGE_TICK_S
            else:
                while await release_due(rt) == RELEASE_BATCH:
                    pass
                due = await next_due(rt.engine)
                if due is not None:
                    timeout = min(RELEASE_IDLE_S, max(0.0, (due - real_now()).total_seconds()))
        except asyncio.CancelledError:
            raise
        except ConcurrencyError:
            timeout = interval  # another instance released into the same stream: next round
        except Exception as exc:
            log.warning("releasing held answers failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=timeout)
        wake.clear()
        await asyncio.sleep(interval)
