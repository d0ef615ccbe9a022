"""A consumer batch decides validated workers in priority order (issue 13, item 5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from libs.events import Envelope
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.registry import NominationWithdrawn, WorkerValidated
from services.allocation.application.handlers import in_priority_order

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def validated(worker: str, minutes: int, decile: int | None = 1) -> WorkerValidated:
    return WorkerValidated(
        worker_id=worker,
        nomination_id=f"n-{worker}",
        programme_code="P",
        identity=WorkerIdentity(nik="1271010101850001", full_name="X", birth_date="1985-01-01", sex="L"),
        occupation="petani",
        regency_code="12.71",
        sector="sawit",
        decile=decile,
        funder=Funder.APBD_PROVINSI,
        poverty_source="P3KE",
        reference_version="v",
        nominated_at=T0 + timedelta(minutes=minutes),
    )


def withdrawn(worker: str) -> NominationWithdrawn:
    return NominationWithdrawn(
        worker_id=worker, nomination_id=f"n-{worker}", programme_code="P", regency_code="12.71", reason="died"
    )


def item(event: DomainEvent) -> tuple[Envelope, DomainEvent]:
    envelope = Envelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        aggregate_id="a",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="registry",
        payload=event.model_dump(mode="json"),
    )
    return envelope, event


def workers(items: list[tuple[Envelope, DomainEvent]]) -> list[str]:
    return [f"{type(e).__name__[0]}:{e.worker_id}" for _, e in items]  # type: ignore[attr-defined]


def test_partitions_delivered_out_of_order_are_decided_in_nomination_order() -> None:
    batch = [item(validated("c", 3)), item(validated("b", 2)), item(validated("a", 1))]
    assert workers(in_priority_order(batch)) == ["W:a", "W:b", "W:c"]


def test_desil_before_nomination_time_and_dtks_after_every_desil() -> None:
    batch = [item(validated("dtks", 0, None)), item(validated("d2", 1, 2)), item(validated("d1", 9, 1))]
    assert workers(in_priority_order(batch)) == ["W:d1", "W:d2", "W:dtks"]


def test_other_events_keep_their_place_between_runs() -> None:
    batch = [
        item(validated("c", 3)),
        item(validated("a", 1)),
        item(withdrawn("c")),
        item(validated("e", 5)),
        item(validated("d", 4)),
    ]
    assert workers(in_priority_order(batch)) == ["W:a", "W:c", "N:c", "W:d", "W:e"]
