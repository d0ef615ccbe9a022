"""The stream kit: one way to handle commands over event streams, a batch at a time.

`handle` loads every stream a batch of commands names (one read), folds each with its
decider, decides the commands in order (a later command of one stream sees what an earlier one
decided), and appends everything with the versions and hashes read (one write, projected in
the same transaction). `StreamKit` adds the transaction: it retries a batch that lost a race
(ConcurrencyError) by its policy and wakes the relay once the batch is committed. Deciding a
batch is the normal case; one command is a batch of one.

    decider (domain)  ──decide/evolve──▶  handle (this module)  ──load/append──▶  Store (ports.py)
                                                                         ├─ PostgresStore
                                                                         └─ InMemoryStore
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from libs.events.catalog import remember
from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope, utcnow
from libs.eventstore.decider import C, Decider, Recorded, S
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.ports import PendingAppend, Store, StoreTransaction

T = TypeVar("T")


@dataclass(frozen=True)
class Origin:
    """Where a command comes from: the business flow it belongs to and the event that caused it."""

    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None

    @classmethod
    def of(cls, cause: Envelope) -> Origin:
        """The origin of a command caused by a consumed event (same flow, caused by it)."""
        return cls(cause.correlation_id, cause.event_id)

    @classmethod
    def new(cls) -> Origin:
        """A new business flow (a request of a person or a timer)."""
        return cls(uuid.uuid4())


@dataclass(frozen=True)
class Decision(Generic[C]):
    """A command and what deciding it recorded in its stream."""

    command: C
    stream_id: str
    recorded: list[Recorded]

    @property
    def events(self) -> list[DomainEvent]:
        return [r.event for r in self.recorded]


def recorded_as(
    events: Sequence[DomainEvent],
    *,
    stream_id: str,
    after_version: int,
    origin: Origin,
    occurred_at: datetime,
    producer: str,
) -> list[Recorded]:
    """Envelopes (clear) for newly decided events at the versions after `after_version`."""
    recorded: list[Recorded] = []
    for offset, event in enumerate(events, start=1):
        envelope = Envelope(
            event_type=event.event_type,
            schema_version=event.schema_version,
            occurred_at=occurred_at,
            aggregate_id=stream_id,
            aggregate_version=after_version + offset,
            correlation_id=origin.correlation_id,
            causation_id=origin.causation_id,
            producer=producer,
            payload=event.model_dump(mode="json"),
        )
        remember(envelope, event)  # its projection gets `event`, not a decoding of the payload
        recorded.append(Recorded(event, envelope))
    return recorded


async def handle(
    tx: StoreTransaction,
    decider: Decider[C, S],
    commands: Sequence[C],
    *,
    origin: Origin | Callable[[C], Origin],
    occurred_at: datetime | None = None,
) -> list[Decision[C]]:
    """Decide `commands` in order, in `tx`, and append what they decided; see the module doc.

    A command the decider refuses (raises) aborts the whole batch: the caller decides whether to
    retry the others without it (the consumer does, one by one)."""
    when = occurred_at or utcnow()
    stream_ids = list(dict.fromkeys(decider.stream_of(command) for command in commands))
    loaded = await tx.load(stream_ids)
    states = {s: decider.fold(loaded[s].recorded) for s in stream_ids}
    versions = {s: loaded[s].version for s in stream_ids}
    hashes: dict[str, str | None] = {s: loaded[s].last_hash for s in stream_ids}
    decisions: list[Decision[C]] = []
    pending: list[PendingAppend] = []
    for command in commands:
        stream_id = decider.stream_of(command)
        events = decider.decide(command, states[stream_id])
        recorded = recorded_as(
            events,
            stream_id=stream_id,
            after_version=versions[stream_id],
            origin=origin(command) if callable(origin) else origin,
            occurred_at=when,
            producer=tx.producer,
        )
        decisions.append(Decision(command, stream_id, recorded))
        if not recorded:
            continue
        states[stream_id] = decider.fold(recorded, states[stream_id])
        pending.append(PendingAppend(stream_id, versions[stream_id], recorded, hashes[stream_id]))
        versions[stream_id] += len(recorded)
        hashes[stream_id] = None  # the store carries the chain on from its previous append
    if pending:
        await tx.append(pending)
    return decisions


@dataclass(frozen=True)
class RetryPolicy:
    """How often a batch that lost a race to another writer is decided again."""

    attempts: int = 30
    backoff_s: float = 0.005


class StreamKit:
    """Handles batches of commands in transactions of a store (see the module doc)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
        retry: RetryPolicy = RetryPolicy(),
        after_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.retry = retry
        # The relay's wake-up: what was committed goes out now, not at the next poll.
        self.after_commit = after_commit

    async def transact(self, work: Callable[[StoreTransaction], Awaitable[T]]) -> T:
        """Run `work` in a transaction; again from the start when it lost a race; wake the relay."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                async with self.store.transaction() as tx:
                    result = await work(tx)
            except ConcurrencyError:
                if attempt == self.retry.attempts:
                    raise
                await asyncio.sleep(self.retry.backoff_s * attempt)
                continue
            self.after_commit()
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def run(
        self,
        decider: Decider[C, S],
        commands: Sequence[C],
        *,
        origin: Origin | Callable[[C], Origin],
    ) -> list[Decision[C]]:
        """Handle `commands` in a transaction of their own (retried, then the relay woken)."""

        async def work(tx: StoreTransaction) -> list[Decision[C]]:
            return await handle(tx, decider, commands, origin=origin, occurred_at=self.clock())

        return await self.transact(work)
