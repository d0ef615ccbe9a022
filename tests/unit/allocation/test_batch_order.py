"""A consumer batch decides validated workers in nomination order (issue 13, item 5), and what is
decided does not depend on how the records were cut into batches."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from libs.events import Envelope
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.registry import NominationWithdrawn, WorkerValidated
from services.allocation.application.handlers import in_nomination_order
from services.allocation.application.quota_stream import nomination_seq, rank_desil
from services.allocation.domain.quota import QuotaState, ValidatedWorker, decide_validated
from services.allocation.domain.quota_events import QuotaEvent, QuotasOpened
from services.allocation.domain.sector import Sector
from tests.unit.allocation.factories import COST, MEDAN_SAWIT, apply_all, validated_event

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def validated(worker: str, minutes: int, decile: int | None = 1) -> WorkerValidated:
    return validated_event(worker, minutes, decile)


def withdrawn(worker: str) -> NominationWithdrawn:
    return NominationWithdrawn(
        worker_id=worker,
        nomination_id=f"n-{worker}",
        programme_code="P",
        regency_code="12.71",
        reason="died",
        withdrawn_by="test",
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
    assert workers(in_nomination_order(batch, lambda i: i[1])) == ["W:a", "W:b", "W:c"]


def test_desil_does_not_reorder_a_batch() -> None:
    # Desil priority is the quota's rule (waitlist rank, provisional seats), the same for every
    # cut; a batch-wide sort by desil would decide differently depending on the cut (below).
    batch = [item(validated("dtks", 0, None)), item(validated("d2", 1, 2)), item(validated("d1", 9, 1))]
    assert workers(in_nomination_order(batch, lambda i: i[1])) == ["W:dtks", "W:d2", "W:d1"]


def test_other_events_keep_their_place_between_runs() -> None:
    batch = [
        item(validated("c", 3)),
        item(validated("a", 1)),
        item(withdrawn("c")),
        item(validated("e", 5)),
        item(validated("d", 4)),
    ]
    assert workers(in_nomination_order(batch, lambda i: i[1])) == ["W:a", "W:c", "N:c", "W:d", "W:e"]


# One partition's workers, in the order the registry nominated (and published) them: desil 2
# first, then desil 1 twice, then desil 2 and 1 again, into 2 seats.
PARTITION = [("p", 2), ("q", 1), ("r", 1), ("s", 2), ("t", 1)]


def decided(cuts: tuple[int, ...], *, requires_decree: bool) -> list[QuotaEvent]:
    """Every decision when PARTITION arrives cut into batches at `cuts`."""
    opening = QuotasOpened("P", ((MEDAN_SAWIT, 2),), 10 * COST, COST, requires_decree=requires_decree)
    state = QuotaState.rebuild([opening])
    arrivals = [item(validated(w, minutes, desil)) for minutes, (w, desil) in enumerate(PARTITION)]
    bounds = (0, *cuts, len(arrivals))
    log: list[QuotaEvent] = []
    for start, end in itertools.pairwise(bounds):
        for _, event in in_nomination_order(arrivals[start:end], lambda i: i[1]):
            assert isinstance(event, WorkerValidated)
            worker = ValidatedWorker(
                event.worker_id,
                event.regency_code,
                Sector(event.sector),
                rank_desil(event.decile),
                nomination_seq(event.nominated_at),
            )
            decision = decide_validated(state, worker)
            apply_all(state, decision)
            log += decision
    return log


@pytest.mark.parametrize("requires_decree", [True, False], ids=["provisional", "final"])
def test_the_decisions_do_not_depend_on_how_a_partition_is_cut_into_batches(requires_decree: bool) -> None:
    every_cut = [
        cuts for k in range(len(PARTITION)) for cuts in itertools.combinations(range(1, len(PARTITION)), k)
    ]

    logs = {cuts: decided(cuts, requires_decree=requires_decree) for cuts in every_cut}

    one_batch = logs[()]
    assert all(log == one_batch for log in logs.values())
