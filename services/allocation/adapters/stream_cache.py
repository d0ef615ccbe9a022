"""Programme states kept between transactions: a stream's new events are read, not all of them.

A programme's stream holds every decision about tens of thousands of workers; folding it for
every consumer batch would cost more than deciding. The cache keeps each programme's state with
the stream head (version and hash) it reflects, and checks it on every load: when another writer
(another instance, or this one) appended, only the newer events are read and folded, after
checking that the kept head is still in the stream; when it is not (a transaction that wrote it
rolled back), the state is rebuilt from the first event. The kit (libs/eventstore/kit.py) folds a
stream from the events it loads: the kept state goes to it as one `Snapshot` standing for them
(domain/programme_stream.py). Kept states are never changed (evolve copies a snapshot), so the
consumer and the HTTP commands share one cache.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from libs.events.catalog import decode
from libs.eventstore.decider import Decider, Recorded
from libs.eventstore.ports import (
    DeadLetter,
    InboxEntry,
    LoadedStream,
    OutboxMessage,
    PendingAppend,
    StoreTransaction,
)
from libs.eventstore.postgres import PostgresTransaction
from libs.eventstore.store import row_to_envelope
from libs.privacy.envelopes import open_envelopes
from services.allocation.domain.programme_commands import ProgrammeCommand
from services.allocation.domain.programme_stream import ProgrammeStream, Snapshot


@dataclass(frozen=True)
class _Kept:
    version: int
    last_hash: str
    state: ProgrammeStream
    last: Recorded  # the event at `version` (what the snapshot is recorded as)


class ProgrammeStates:
    """The cache of programme states of one service instance (see the module doc)."""

    def __init__(self, decider: Decider[ProgrammeCommand, ProgrammeStream]) -> None:
        self.decider = decider
        self._kept: dict[str, _Kept] = {}
        self.rebuilds = 0  # read from the first event
        self.catch_ups = 0  # the stream grew since it was kept: only the new events were read

    def over(self, tx: StoreTransaction) -> StoreTransaction:
        """`tx`, loading through the cache when it is a PostgreSQL transaction."""
        if isinstance(tx, PostgresTransaction):
            return CachedTransaction(tx, self)
        return tx

    async def load(self, tx: PostgresTransaction, stream_ids: Sequence[str]) -> dict[str, LoadedStream]:
        """Every named stream as one snapshot of its state at its head."""
        # The heads as the store reads them for its appends (one query for every stream).
        heads = await tx.heads(stream_ids)
        found: dict[str, LoadedStream] = {}
        for stream_id in stream_ids:
            if stream_id not in heads:
                found[stream_id] = LoadedStream()
                continue
            version, last_hash = heads[stream_id]
            kept = await self._kept_at(tx, stream_id, version, last_hash)
            snapshot = Snapshot(kept.last.event, kept.last.envelope, state=kept.state)
            found[stream_id] = LoadedStream([snapshot], version, last_hash)
        return found

    async def _kept_at(self, tx: PostgresTransaction, stream_id: str, version: int, last_hash: str) -> _Kept:
        kept = self._kept.get(stream_id)
        if kept is not None and (kept.version, kept.last_hash) == (version, last_hash):
            return kept
        if (
            kept is not None
            and kept.version < version
            and await _hash_at(tx, stream_id, kept.version) == kept.last_hash
        ):
            new = await _events(tx, stream_id, kept.version, version)
            state = self.decider.fold(new, kept.state.copy())
            self.catch_ups += 1
        else:
            new = await _events(tx, stream_id, 0, version)
            state = self.decider.fold(new)
            self.rebuilds += 1
        kept = _Kept(version, last_hash, state, new[-1])
        self._kept[stream_id] = kept
        return kept


class CachedTransaction:
    """A PostgreSQL store transaction whose loads go through a ProgrammeStates cache."""

    def __init__(self, inner: PostgresTransaction, states: ProgrammeStates) -> None:
        self.inner = inner
        self.states = states
        self.conn = inner.conn  # the service's read models, as on the transaction itself

    @property
    def producer(self) -> str:
        return self.inner.producer

    async def load(self, stream_ids: Sequence[str]) -> dict[str, LoadedStream]:
        return await self.states.load(self.inner, stream_ids)

    async def append(self, appends: Sequence[PendingAppend]) -> list[Recorded]:
        return await self.inner.append(appends)

    async def claim_inbox(self, entries: Sequence[InboxEntry]) -> set[uuid.UUID]:
        return await self.inner.claim_inbox(entries)

    async def park(self, letter: DeadLetter) -> bool:
        return await self.inner.park(letter)

    async def enqueue(self, message: OutboxMessage) -> None:
        await self.inner.enqueue(message)

    async def unsent(self, limit: int) -> list[OutboxMessage]:
        return await self.inner.unsent(limit)

    async def mark_sent(self, ids: Sequence[int]) -> None:
        await self.inner.mark_sent(ids)


async def _hash_at(tx: PostgresTransaction, stream_id: str, version: int) -> str | None:
    events = tx.store.tables.events
    statement = select(events.c.hash).where(
        events.c.aggregate_id == stream_id, events.c.aggregate_version == version
    )
    return (await tx.conn.execute(statement)).scalar_one_or_none()


async def _events(tx: PostgresTransaction, stream_id: str, after: int, upto: int) -> list[Recorded]:
    # Bounded by the head read: a later commit is picked up by the next load, not twice.
    events = tx.store.tables.events
    rows = await tx.conn.execute(
        select(events)
        .where(
            events.c.aggregate_id == stream_id,
            events.c.aggregate_version > after,
            events.c.aggregate_version <= upto,
        )
        .order_by(events.c.aggregate_version)
    )
    # Opened: the contracts admit a clear or forgotten identity, never a sealed one.
    opened = await open_envelopes(tx.conn, tx.store.vault, [row_to_envelope(r) for r in rows])
    return [Recorded(decode(envelope), envelope) for envelope in opened]
