"""Programme states kept between transactions: a stream's new events are read, not all of them.

A programme's stream holds every decision about tens of thousands of workers; folding it for
every consumer batch would cost more than deciding. The cache keeps each programme's state with
the stream head it reflects (version and the id of the event there), and checks it against the
heads read on every load (one query for every stream): when another writer (another instance)
appended, only the newer events are read, after checking that the kept head is still in the
stream; when it is not, the state is rebuilt from the first event. It keeps at most `capacity`
programmes, the least recently loaded leaving first (a programme of a past year is not loaded
again); one that left is rebuilt from its events when next loaded.

What a transaction learns (states it loaded, the events it appended) is kept apart, for that
transaction only, and becomes the cache's when the transaction commits; a rollback drops it. So
the batch after a rolled-back one finds the cache as the last commit left it (no rebuild), and the
batch after a committed one reads nothing but the heads. Kept states are never changed, so the
consumer and the HTTP commands share one cache: a load lends the kit (libs/eventstore/kit.py) a
copy of the kept state as one owned `Snapshot` (domain/programme_stream.py), which the kit folds
the batch's decisions into; when the kit appends them, that copy is the state at the new head
(its version says so), and it is what the transaction learned: no event is kept and no state is
folded twice.

The commit is seen through SQLAlchemy's `commit` event of the transaction's connection, which
comes just before PostgreSQL's COMMIT: should that COMMIT fail, the kept head names an event the
stream does not have, and the next load rebuilds.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

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

DEFAULT_CAPACITY = 8  # programmes kept (settings.allocation_programme_states)


@dataclass(frozen=True)
class _Kept:
    """A stream's state at `version` (never changed) and the event there."""

    version: int
    event_id: uuid.UUID  # the event at `version`
    state: ProgrammeStream
    last: Recorded  # the event at `version`

    def lent(self, last_hash: str) -> tuple[LoadedStream, ProgrammeStream]:
        """The stream as one snapshot owning a copy of the state, and that copy."""
        copy = self.state.copy()
        snapshot = Snapshot(self.last.event, self.last.envelope, state=copy, owned=True)
        return LoadedStream([snapshot], self.version, last_hash), copy


@dataclass(frozen=True)
class _Head:
    version: int
    last_hash: str
    event_id: uuid.UUID


class ProgrammeStates:
    """The cache of programme states of one service instance (see the module doc)."""

    def __init__(
        self, decider: Decider[ProgrammeCommand, ProgrammeStream], capacity: int = DEFAULT_CAPACITY
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.decider = decider
        self.capacity = capacity
        self._kept: OrderedDict[str, _Kept] = OrderedDict()  # as commits left them, oldest use first
        self.rebuilds = 0  # read from the first event
        self.catch_ups = 0  # the stream grew since it was kept: only the new events were read
        self.evictions = 0  # left the cache for newer ones

    @property
    def kept(self) -> list[str]:
        """The programme streams kept, least recently used first."""
        return list(self._kept)

    def over(self, tx: StoreTransaction) -> StoreTransaction:
        """`tx`, loading through the cache when it is a PostgreSQL transaction. (Two cached
        transactions over one store transaction are harmless: at its commit, the newer state
        each learned is kept.)"""
        if isinstance(tx, PostgresTransaction):
            return CachedTransaction(tx, self)
        return tx

    def committed(self, learned: dict[str, _Kept]) -> None:
        """A transaction committed: what it learned becomes the cache's, where newer."""
        for stream_id, kept in learned.items():
            before = self._kept.get(stream_id)
            if before is None or before.version <= kept.version:
                self._kept[stream_id] = kept
            self._kept.move_to_end(stream_id)
        while len(self._kept) > self.capacity:
            self._kept.popitem(last=False)
            self.evictions += 1

    async def load(
        self,
        tx: PostgresTransaction,
        stream_ids: Sequence[str],
        learned: dict[str, _Kept],
        lent: dict[str, ProgrammeStream],
    ) -> dict[str, LoadedStream]:
        """Every named stream as one snapshot of its state at its head; the copies lent, by
        stream, in `lent`."""
        heads = await _heads(tx, stream_ids)
        found: dict[str, LoadedStream] = {}
        for stream_id in stream_ids:
            head = heads.get(stream_id)
            if head is None:
                found[stream_id] = LoadedStream()
                continue
            known = learned.get(stream_id)
            if known is None and stream_id in self._kept:
                self._kept.move_to_end(stream_id)
                known = self._kept[stream_id]
            kept = await self._kept_at(tx, stream_id, head, known)
            learned[stream_id] = kept
            found[stream_id], lent[stream_id] = kept.lent(head.last_hash)
        return found

    async def _kept_at(
        self, tx: PostgresTransaction, stream_id: str, head: _Head, kept: _Kept | None
    ) -> _Kept:
        if kept is not None and (kept.version, kept.event_id) == (head.version, head.event_id):
            return kept
        if (
            kept is not None
            and kept.version < head.version
            and await _event_id_at(tx, stream_id, kept.version) == kept.event_id
        ):
            self.catch_ups += 1
            new = await _events(tx, stream_id, kept.version, head.version)
            return _Kept(head.version, head.event_id, self.decider.fold(new, kept.state.copy()), new[-1])
        new = await _events(tx, stream_id, 0, head.version)
        self.rebuilds += 1
        return _Kept(head.version, head.event_id, self.decider.fold(new), new[-1])


class CachedTransaction:
    """A PostgreSQL store transaction whose loads go through a ProgrammeStates cache; what it
    learns reaches the cache when it commits (see the module doc)."""

    def __init__(self, inner: PostgresTransaction, states: ProgrammeStates) -> None:
        self.inner = inner
        self.states = states
        self.conn = inner.conn  # the service's read models, as on the transaction itself
        self._learned: dict[str, _Kept] = {}
        self._lent: dict[str, ProgrammeStream] = {}  # the copy the last load of a stream lent
        self._open = True
        _on_end(inner.conn, self._commit, self._rollback, self._forget)

    @property
    def producer(self) -> str:
        return self.inner.producer

    async def load(self, stream_ids: Sequence[str]) -> dict[str, LoadedStream]:
        return await self.states.load(self.inner, stream_ids, self._learned, self._lent)

    async def append(self, appends: Sequence[PendingAppend]) -> list[Recorded]:
        recorded = await self.inner.append(appends)
        # The kit appends a batch as one item per command: a stream's items follow each other.
        streams: dict[str, list[Recorded]] = {}
        contiguous: dict[str, bool] = {}
        for item in appends:
            events = streams.setdefault(item.stream_id, [])
            kept = self._learned.get(item.stream_id)
            start = (kept.version if kept is not None else 0) + len(events)
            contiguous[item.stream_id] = contiguous.get(item.stream_id, True) and (
                item.expected_version == start
            )
            events += item.recorded
        for stream_id, events in streams.items():
            kept = self._learned.pop(stream_id, None)
            lent = self._lent.pop(stream_id, None)
            if not events or not contiguous[stream_id]:
                continue  # the next load reads these events back
            head = (kept.version if kept is not None else 0) + len(events)
            if kept is None:  # a new programme
                state = self.states.decider.fold(events)
            elif lent is not None and lent.version == head:
                # The kit folded what it appends into the copy it was lent, and exactly that.
                state = lent
            else:
                continue
            self._learned[stream_id] = _Kept(head, events[-1].envelope.event_id, state, events[-1])
        return recorded

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

    def _commit(self) -> None:
        if self._open:
            self._open = False
            self.states.committed(self._learned)

    def _rollback(self) -> None:
        self._open = False
        self._forget()

    def _forget(self) -> None:
        self._learned.clear()
        self._lent.clear()


def _on_end(
    conn: AsyncConnection,
    committed: Callable[[], None],
    rolled_back: Callable[[], None],
    savepoint_rolled_back: Callable[[], None],
) -> None:
    """Listen for the end of the connection's transaction (and for a savepoint of it rolled back:
    what was learned since may not hold). The listeners go with the connection object, which
    SQLAlchemy makes anew for each transaction of an engine."""
    sync = conn.sync_connection
    if sync is None:
        raise RuntimeError("the store transaction's connection is closed")
    event.listen(sync, "commit", lambda _conn: committed())
    event.listen(sync, "rollback", lambda _conn: rolled_back())
    event.listen(sync, "rollback_savepoint", lambda *_args: savepoint_rolled_back())


async def _heads(tx: PostgresTransaction, stream_ids: Sequence[str]) -> dict[str, _Head]:
    """Each stream's last version, hash and event id (one query)."""
    events = tx.store.tables.events
    rows = await tx.conn.execute(
        select(events.c.aggregate_id, events.c.aggregate_version, events.c.hash, events.c.event_id)
        .where(events.c.aggregate_id.in_(sorted(set(stream_ids))))
        .order_by(events.c.aggregate_id, events.c.aggregate_version.desc())
        .ext(distinct_on(events.c.aggregate_id))
    )
    return {r.aggregate_id: _Head(r.aggregate_version, r.hash, r.event_id) for r in rows}


async def _event_id_at(tx: PostgresTransaction, stream_id: str, version: int) -> uuid.UUID | None:
    events = tx.store.tables.events
    statement = select(events.c.event_id).where(
        events.c.aggregate_id == stream_id, events.c.aggregate_version == version
    )
    found: uuid.UUID | None = (await tx.conn.execute(statement)).scalar_one_or_none()
    return found


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
