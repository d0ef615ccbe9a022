"""What the inbox consumer hands a service's handler: the consumed events and the shapes a
handler takes (a `Reactor` on the stream kit; the older shapes until every service has moved)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.store import EventStore


@dataclass(frozen=True)
class Consumed:
    """One consumed event, decoded, with where it came from."""

    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope  # as it came (what the inbox keeps)
    event: DomainEvent
    clear: Envelope  # its personal fields opened (what the handler sees)


@dataclass(frozen=True)
class HandlerContext:
    """What a handler gets: the open transaction, the service's event store, the consumed event."""

    conn: AsyncConnection
    store: EventStore
    envelope: Envelope


class Reactor(Protocol):
    """A service's reaction to the events it consumes, on the stream kit: the consumer hands it
    the batch's new events (personal fields clear) and the batch's transaction of the store
    (libs/eventstore/ports.py); it decides with `libs.eventstore.kit.handle` in that transaction.
    The consumer commits, retries a lost race and wakes the relay."""

    interested: frozenset[str]

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None: ...


class ParkingReactor(Reactor, Protocol):
    """A Reactor that answers for what it could not apply, in the transaction that parks it."""

    async def parked(
        self,
        tx: StoreTransaction,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None: ...


class EventHandler(Protocol):
    """A service's reaction to the events it consumes."""

    interested: frozenset[str]

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None: ...


class BatchAware(Protocol):
    """A handler that applies a batch's new events together (fewer round trips) with the same
    effects as calling it once per event, in order, in the batch's one transaction."""

    async def apply_batch(
        self, conn: AsyncConnection, store: EventStore, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None: ...


class ParkingAware(Protocol):
    """A handler that must answer for what it could not apply (e.g. reply to the sender).

    Its `parked` runs inside the transaction that parks the message, so what it appends (a
    reply event) is published exactly when the message is parked.
    """

    async def parked(
        self,
        conn: AsyncConnection,
        store: EventStore,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None: ...
