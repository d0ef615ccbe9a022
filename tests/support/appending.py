"""Appending events in a test without a decider: the rows a service's kit would write."""

from __future__ import annotations

from collections.abc import Sequence

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import utcnow
from libs.eventstore.decider import Recorded
from libs.eventstore.kit import Origin, recorded_as
from libs.eventstore.ports import PendingAppend, Store, StoreTransaction


def pending(
    tx: StoreTransaction | Store,
    stream: str,
    events: Sequence[DomainEvent],
    *,
    after: int = 0,
    expected_hash: str | None = None,
    origin: Origin | None = None,
) -> PendingAppend:
    """`events` enveloped for `stream` at the versions after `after`, as the kit would (the
    producer is the store's, or its transaction's)."""
    recorded = recorded_as(
        events,
        stream_id=stream,
        after_version=after,
        origin=origin or Origin.new(),
        occurred_at=utcnow(),
        producer=tx.producer,
    )
    return PendingAppend(stream, after, recorded, expected_hash)


async def append(
    tx: StoreTransaction,
    stream: str,
    events: Sequence[DomainEvent],
    *,
    after: int = 0,
    origin: Origin | None = None,
) -> list[Recorded]:
    """Append `events` to `stream` (expected at version `after`) in `tx`."""
    return await tx.append([pending(tx, stream, events, after=after, origin=origin)])
