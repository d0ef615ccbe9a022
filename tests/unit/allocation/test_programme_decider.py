"""The programme decider alone: commands against folded states, no store."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from libs.events.contracts.base import DomainEvent
from libs.eventstore.decider import Recorded
from libs.eventstore.kit import Origin, recorded_as
from services.allocation.domain.cross_programme import ProgrammeHold
from services.allocation.domain.period import Period
from services.allocation.domain.programme_commands import (
    DefineProgramme,
    NeedHolds,
    ProgrammeCommand,
    ReleaseWorker,
    SeatFixedMeanwhile,
    SetBudget,
    Validate,
    WorkerHolds,
    programme_decider,
)
from services.allocation.domain.programme_facts import ProgrammeAlreadyDefined, programme_defined
from services.allocation.domain.programme_stream import EMPTY, ProgrammeStream, Snapshot
from services.allocation.domain.quota_events import ReleaseReason
from services.allocation.domain.quota_wire import WorkerFacts, stream_of
from tests.unit.allocation.factories import COST, T0, programme, validated_event, worker

DECIDER = programme_decider()
CODE = "SUMUT-2025"
PERIOD = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def recorded(events: list[DomainEvent], after: int) -> list[Recorded]:
    return recorded_as(
        events, stream_id=stream_of(CODE), after_version=after, origin=Origin(uuid.uuid4()),
        occurred_at=T0, producer="allocation",
    )  # fmt: skip


class Stream:
    """A programme stream folded as the kit folds it."""

    def __init__(self) -> None:
        self.history: list[Recorded] = []

    @property
    def state(self) -> ProgrammeStream:
        return DECIDER.fold(self.history)

    def decide(self, command: ProgrammeCommand) -> list[DomainEvent]:
        events = list(DECIDER.decide(command, self.state))
        self.history += recorded(events, len(self.history))
        return events


def validate(n: int, holds: dict[str, WorkerHolds] | None = None) -> Validate:
    w = worker(n)
    event = validated_event(w.worker_id, n, code=CODE)
    facts = WorkerFacts(event.nomination_id, w.regency, w.sector.value, 1, event.identity)
    known = {w.worker_id: WorkerHolds(w.nomination_seq)} if holds is None else holds
    return Validate(CODE, w, facts, known)


def defined(seats: int = 1, **overrides: object) -> Stream:
    stream = Stream()
    quotas = [{"regency": "12.71", "sector": "sawit", "seats": seats}]
    stream.decide(DefineProgramme(programme_defined(programme(quotas=quotas, **overrides))))
    return stream


def test_a_definition_is_recorded_once_and_never_changed() -> None:
    stream = defined()
    same = programme(quotas=[{"regency": "12.71", "sector": "sawit", "seats": 1}])
    assert stream.decide(DefineProgramme(programme_defined(same))) == []
    other = programme(quotas=[{"regency": "12.71", "sector": "sawit", "seats": 2}])
    with pytest.raises(ProgrammeAlreadyDefined):
        stream.decide(DefineProgramme(programme_defined(other)))


def test_the_empty_state_is_never_changed_by_folding() -> None:
    defined().state  # noqa: B018
    assert ProgrammeStream() == EMPTY and EMPTY.facts is None


def test_a_seat_needs_the_holds_of_who_it_seats() -> None:
    stream = defined(seats=1)
    with pytest.raises(NeedHolds) as need:
        stream.decide(validate(1, holds={}))
    assert need.value.workers == {"w0001": 1}
    assert [e.event_type for e in stream.decide(validate(1))] == ["QuotaAssigned"]


def test_a_promotion_needs_holds_and_a_blocked_worker_is_released() -> None:
    stream = defined(seats=1)
    for n in (1, 2, 3):
        stream.decide(validate(n))
    release = ReleaseWorker(CODE, "w0001", ReleaseReason.WITHDRAWN)
    with pytest.raises(NeedHolds):
        DECIDER.decide(release, stream.state)
    kept = WorkerHolds(2, (ProgrammeHold("OTHER", PERIOD, T0, final=True),))
    holds = {"w0002": kept, "w0003": WorkerHolds(3)}
    events = DECIDER.decide(ReleaseWorker(CODE, "w0001", ReleaseReason.WITHDRAWN, holds=holds), stream.state)
    assert [(e.event_type, getattr(e, "worker_id", None)) for e in events] == [
        ("QuotaReleased", "w0001"),
        ("QuotaReleased", "w0002"),
        ("QuotaAssigned", "w0003"),
    ]


def test_a_displacement_of_a_seat_fixed_meanwhile_is_refused() -> None:
    stream = defined(seats=1, requires_decree=False)
    stream.decide(validate(1))
    displacing = ReleaseWorker(CODE, "w0001", ReleaseReason.HELD_BY_OTHER_PROGRAMME, "OTHER", displacing=True)
    with pytest.raises(SeatFixedMeanwhile):
        stream.decide(displacing)


def test_a_snapshot_stands_for_the_events_it_folded() -> None:
    stream = defined(seats=2)
    for n in (1, 2, 3):
        stream.decide(validate(n))
    kept = stream.state
    last = stream.history[-1]
    from_snapshot = DECIDER.fold([Snapshot(last.event, last.envelope, state=kept)])
    assert from_snapshot is not kept
    assert from_snapshot.quota.assigned == kept.quota.assigned
    assert from_snapshot.workers == kept.workers
    events = DECIDER.decide(SetBudget(CODE, 3 * COST, holds={"w0003": WorkerHolds(3)}), from_snapshot)
    assert [e.event_type for e in events] == ["BudgetChanged"]
    assert kept.quota.budget_cap == from_snapshot.quota.budget_cap  # deciding changed neither
