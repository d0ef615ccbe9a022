"""The order a store replay applies a service's own events and its consumed envelopes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from libs.audit.source import Applied, in_applied_order
from libs.events.envelope import Envelope

T = datetime(2026, 3, 1, tzinfo=UTC)


def item(origin: str, seconds: int, position: int) -> Applied:
    envelope = Envelope(
        event_type="X",
        schema_version=1,
        aggregate_id=f"{origin}-{position}",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer=origin,
        payload={},
    )
    return Applied(
        envelope, "own" if origin == "own" else "consumed", T + timedelta(seconds=seconds), position
    )


async def feed(items: Iterable[Applied]) -> AsyncIterator[Applied]:
    for i in items:
        yield i


async def merged(own: list[Applied], consumed: list[Applied] | None) -> list[tuple[str, int | None]]:
    return [
        (a.origin, a.position)
        async for a in in_applied_order(feed(own), feed(consumed) if consumed is not None else None)
    ]


async def test_the_logs_interleave_by_transaction_time_inbox_first_on_ties() -> None:
    own = [item("own", 1, 1), item("own", 3, 2), item("own", 3, 3)]
    consumed = [item("in", 0, 1), item("in", 3, 2), item("in", 5, 3)]
    assert await merged(own, consumed) == [
        ("consumed", 1),
        ("own", 1),
        ("consumed", 2),  # same transaction time as own 2 and 3: the inbox row came first
        ("own", 2),
        ("own", 3),
        ("consumed", 3),
    ]


async def test_a_log_is_never_reordered_even_when_its_times_are_not_monotonic() -> None:
    # Position 2's transaction started before position 1's (it appended after a wait):
    # positions stay in order, the merge never sorts one log by time.
    own = [item("own", 4, 1), item("own", 2, 2)]
    consumed = [item("in", 3, 1)]
    assert await merged(own, consumed) == [("consumed", 1), ("own", 1), ("own", 2)]


async def test_own_events_alone_keep_position_order() -> None:
    own = [item("own", 2, 1), item("own", 1, 2)]
    assert await merged(own, None) == [("own", 1), ("own", 2)]


async def test_merging_needs_the_transaction_times() -> None:
    timeless = Applied(item("own", 0, 1).envelope, "own", None, 1)
    with pytest.raises(ValueError):
        await merged([timeless], [item("in", 0, 1)])
