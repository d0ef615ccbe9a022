"""The event store in memory: the same contract as PostgreSQL (tests/contract/eventstore), for
unit tests of handlers and for the consumer's local backend.

A transaction works on its own buffer and applies it at commit, after checking that no stream
it appended to and no inbox entry it claimed was written by a transaction committed since
(ConcurrencyError otherwise), as PostgreSQL's unique constraints do. Personal fields are kept as
they are (there is no key vault in memory); the hash chain is the same as PostgreSQL's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from libs.events.catalog import decode
from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH, chain_hash_of_text
from libs.eventstore.ports import DeadLetter, InboxEntry, LoadedStream, OutboxMessage, PendingAppend
from libs.eventstore.store import outbox_headers

MemoryProjector = Callable[[Sequence[Recorded]], None]


def _no_projection(recorded: Sequence[Recorded]) -> None:
    return None


@dataclass
class _Stream:
    envelopes: list[Envelope] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)

    @property
    def version(self) -> int:
        return len(self.envelopes)

    @property
    def last_hash(self) -> str:
        return self.hashes[-1] if self.hashes else GENESIS_HASH


class InMemoryStore:
    """Streams, outbox, inbox and dead letters of one service, in memory."""

    def __init__(self, producer: str, project: MemoryProjector = _no_projection) -> None:
        self._producer = producer
        # Read models kept in memory by the service's tests; run at commit, in order.
        self.project = project
        self.streams: dict[str, _Stream] = {}
        self.log: list[Envelope] = []  # every event in commit order (the events table's positions)
        self.outbox: list[OutboxMessage] = []
        self.sent: set[int] = set()
        self.inbox: dict[uuid.UUID, InboxEntry] = {}
        self.dead_letters: dict[tuple[str, int, int], DeadLetter] = {}

    @property
    def producer(self) -> str:
        return self._producer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        tx = MemoryTransaction(self)
        yield tx
        tx.commit()

    async def opened(self, envelopes: list[Envelope]) -> list[Envelope]:
        return envelopes  # nothing is sealed in memory

    def events(self, stream_id: str) -> list[Envelope]:
        """The committed events of one stream (for tests' assertions)."""
        stream = self.streams.get(stream_id)
        return list(stream.envelopes) if stream else []


class MemoryTransaction:
    """One transaction of an InMemoryStore."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self._base: dict[str, int] = {}  # version of each stream appended to, as first seen
        self._new: dict[str, _Stream] = {}  # events appended here, per stream
        self._recorded: list[Recorded] = []  # in append order (the events table's positions)
        self._outbox: list[OutboxMessage] = []
        self._sent: list[int] = []
        self._inbox: dict[uuid.UUID, InboxEntry] = {}
        self._dead: dict[tuple[str, int, int], DeadLetter] = {}

    @property
    def producer(self) -> str:
        return self.store.producer

    def _head(self, stream_id: str) -> tuple[int, str]:
        new = self._new.get(stream_id)
        if new is not None and new.envelopes:
            return self._base[stream_id] + new.version, new.last_hash
        committed = self.store.streams.get(stream_id, _Stream())
        return committed.version, committed.last_hash

    async def load(self, stream_ids: Sequence[str]) -> dict[str, LoadedStream]:
        found: dict[str, LoadedStream] = {}
        for stream_id in stream_ids:
            envelopes = self.store.events(stream_id)
            envelopes += self._new[stream_id].envelopes if stream_id in self._new else []
            version, last_hash = self._head(stream_id)
            recorded = [Recorded(decode(e), e) for e in envelopes]
            found[stream_id] = LoadedStream(recorded, version, last_hash)
        return found

    async def append(self, appends: Sequence[PendingAppend]) -> list[Recorded]:
        written: list[Recorded] = []
        for item in appends:
            if not item.recorded:
                continue
            version, prev_hash = self._head(item.stream_id)
            if version != item.expected_version:
                raise ConcurrencyError(item.stream_id, item.expected_version, version)
            self._base.setdefault(item.stream_id, version)
            new = self._new.setdefault(item.stream_id, _Stream())
            for recorded in item.recorded:
                # Written once, as PostgreSQL's store does: hashed and sent as the same text.
                canonical = recorded.envelope.canonical()
                prev_hash = chain_hash_of_text(prev_hash, canonical.text)
                new.envelopes.append(recorded.envelope)
                new.hashes.append(prev_hash)
                self._outbox.append(
                    OutboxMessage(
                        topic=recorded.event.topic,
                        key=(recorded.event.partition_key() or item.stream_id).encode(),
                        value=canonical.encoded(),
                        headers=outbox_headers(recorded.envelope),
                        event_id=recorded.envelope.event_id,
                    )
                )
                written.append(recorded)
        self._recorded += written
        return written

    async def claim_inbox(self, entries: Sequence[InboxEntry]) -> set[uuid.UUID]:
        fresh: set[uuid.UUID] = set()
        for entry in entries:
            if entry.event_id in self.store.inbox or entry.event_id in self._inbox:
                continue
            self._inbox[entry.event_id] = entry
            fresh.add(entry.event_id)
        return fresh

    async def park(self, letter: DeadLetter) -> bool:
        origin = (letter.topic, letter.partition, letter.offset)
        if origin in self.store.dead_letters or origin in self._dead:
            return False
        self._dead[origin] = letter
        return True

    async def enqueue(self, message: OutboxMessage) -> None:
        self._outbox.append(message)

    async def unsent(self, limit: int) -> list[OutboxMessage]:
        done = self.store.sent | set(self._sent)
        return [m for m in self.store.outbox if m.id not in done][:limit]

    async def mark_sent(self, ids: Sequence[int]) -> None:
        self._sent += ids

    def commit(self) -> None:
        """Apply the buffer to the store, or raise ConcurrencyError when a stream or an inbox
        entry of it was written by another transaction since."""
        store = self.store
        for stream_id, base in self._base.items():
            actual = store.streams.get(stream_id, _Stream()).version
            if actual != base:
                raise ConcurrencyError(stream_id, base, actual)
        taken = sorted(str(event_id) for event_id in self._inbox if event_id in store.inbox)
        if taken:
            raise ConcurrencyError(f"inbox {taken[0]}", None, -1)
        for stream_id, new in self._new.items():
            committed = store.streams.setdefault(stream_id, _Stream())
            committed.envelopes += new.envelopes
            committed.hashes += new.hashes
        store.log += [recorded.envelope for recorded in self._recorded]
        for message in self._outbox:
            store.outbox.append(replace(message, id=len(store.outbox) + 1))
        store.sent.update(self._sent)
        store.inbox.update(self._inbox)
        for origin, letter in self._dead.items():
            store.dead_letters.setdefault(origin, letter)
        if self._recorded:
            store.project(self._recorded)
