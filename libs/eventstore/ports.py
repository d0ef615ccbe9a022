"""What the stream kit needs of a store: one transaction's reads and writes.

Two implementations: PostgreSQL (libs/eventstore/postgres.py) and memory
(libs/eventstore/memory.py), run through one contract suite (tests/contract/eventstore). A
transaction loads streams, appends new events to many streams at once (the one append API),
claims inbox entries, parks dead letters and queues raw outbox messages; the relay reads and
marks the outbox. Everything a transaction wrote is visible to others only after it commits; a
stream appended to by someone else since it was read raises ConcurrencyError by then.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from libs.eventstore.hashing import GENESIS_HASH


@dataclass(frozen=True)
class LoadedStream:
    """A stream as read: its events in version order, its version and the hash of its last event."""

    recorded: list[Recorded] = field(default_factory=list)
    version: int = 0
    last_hash: str = GENESIS_HASH


@dataclass(frozen=True)
class PendingAppend:
    """New events of one stream, enveloped (clear) at the versions after `expected_version`.

    `expected_hash` is the hash at `expected_version` as loaded in this transaction (None: the
    store reads the head itself)."""

    stream_id: str
    expected_version: int
    recorded: Sequence[Recorded]
    expected_hash: str | None = None


@dataclass(frozen=True)
class InboxEntry:
    """A consumed message, kept as the service's input log."""

    event_id: uuid.UUID
    event_type: str
    topic: str
    partition: int
    offset: int
    envelope: dict[str, Any]
    outcome: str = "applied"  # or "parked"


@dataclass(frozen=True)
class DeadLetter:
    """A consumed message that could not be applied, with why."""

    event_id: uuid.UUID | None
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    error_type: str
    error: str
    attempts: int


@dataclass(frozen=True)
class OutboxMessage:
    """A message to publish; `id` is its outbox position once queued."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[list[str]]
    event_id: uuid.UUID | None = None
    id: int = 0


class StoreTransaction(Protocol):
    """One transaction of a service's store."""

    @property
    def producer(self) -> str: ...

    async def load(self, stream_ids: Sequence[str]) -> dict[str, LoadedStream]:
        """Every named stream (an unknown one: empty), in one read."""
        ...

    async def append(self, appends: Sequence[PendingAppend]) -> list[Recorded]:
        """Record every append (a stream may appear more than once, in order) with its outbox
        messages, project them, and return them as recorded (personal fields clear)."""
        ...

    async def claim_inbox(self, entries: Sequence[InboxEntry]) -> set[uuid.UUID]:
        """Keep the entries not seen before; return their event ids (the ones to apply)."""
        ...

    async def park(self, letter: DeadLetter) -> bool:
        """Keep a dead letter; False when this very message was parked before."""
        ...

    async def enqueue(self, message: OutboxMessage) -> None:
        """Queue a message that is not an event of ours (e.g. a dead-letter copy)."""
        ...

    async def unsent(self, limit: int) -> list[OutboxMessage]:
        """The oldest queued messages not yet marked sent, in queue order."""
        ...

    async def mark_sent(self, ids: Sequence[int]) -> None:
        """Mark outbox messages as sent."""
        ...


class Store(Protocol):
    """A service's store: where transactions come from."""

    @property
    def producer(self) -> str: ...

    def transaction(self) -> AbstractAsyncContextManager[StoreTransaction]:
        """A transaction, committed when the block ends without error, rolled back otherwise."""
        ...

    async def opened(self, envelopes: list[Envelope]) -> list[Envelope]:
        """Consumed `envelopes` with their personal fields clear (libs/privacy; FORGOTTEN where
        the person's key is gone); as they are where nothing is sealed."""
        ...
