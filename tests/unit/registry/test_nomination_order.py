"""Nomination time (issue 13, item 5): strictly increasing, and inbound runs in submission order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from libs.events import Envelope
from libs.events.contracts.registry import NominationSubmitted
from services.registry.application.handlers import in_submission_order
from services.registry.application.nominate import NominationClock

T0 = datetime(2025, 2, 3, 2, 0, tzinfo=UTC)


def test_nomination_instants_never_tie_when_the_clock_stands_still() -> None:
    clock = NominationClock(now=lambda: T0)

    instants = [clock.next() for _ in range(500)]

    assert instants[0] == T0
    assert all(b - a == timedelta(microseconds=1) for a, b in pairwise(instants))


def test_a_clock_stepping_back_does_not_reorder_nominations() -> None:
    now = [T0]
    clock = NominationClock(now=lambda: now[0])
    first = clock.next()
    now[0] = T0 - timedelta(seconds=2)

    assert clock.next() > first


def submitted(ref: str, minutes: int) -> tuple[Envelope, NominationSubmitted]:
    event = NominationSubmitted(
        programme_code="P",
        nik="1210010101850001",
        full_name="X",
        birth_date="1985-01-01",  # type: ignore[arg-type]
        sex="L",
        occupation="petani",
        regency_code="12.10",
        kecamatan="Rantau Utara",
        desa="Kartini",
        sector="sawit",
        source_ref=ref,
    )
    envelope = Envelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        aggregate_id=ref,
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="regency-12.10",
        payload=event.model_dump(mode="json"),
        occurred_at=T0 + timedelta(minutes=minutes),
    )
    return envelope, event


def test_an_inbound_run_from_several_partitions_is_decidedin_submission_order() -> None:
    run = [submitted("c", 3), submitted("a", 1), submitted("b", 2), submitted("a-again", 1)]

    assert [e.source_ref for _, e in in_submission_order(run)] == ["a", "a-again", "b", "c"]
