"""What the inbox consumer hands a service's handler: the consumed events and the shapes a
handler takes: a `Reactor` on the stream kit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka.structs import ConsumerRecord

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction


@dataclass(frozen=True)
class Consumed:
    """One consumed event, decoded, with where it came from."""

    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope  # as it came (what the inbox keeps)
    event: DomainEvent
    clear: Envelope  # its personal fields opened (what the handler sees)


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


class CopyingReactor(Reactor, Protocol):
    """A Reactor whose inbox keeps another copy of each consumed event than the one that came
    (the dashboard keeps no personal data): the consumer writes the inbox row with it."""

    def inbox_copy(self, item: Consumed) -> Envelope: ...
