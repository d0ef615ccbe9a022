"""Wire contracts <-> quota decisions: every decision survives the trip to the event store and back."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from libs.events.contracts.common import Funder, WorkerIdentity
from services.allocation.application.programmes import ProgrammeFacts
from services.allocation.application.quota_stream import (
    DTKS_RANK,
    nominated_at,
    nomination_seq,
    rank_desil,
    to_domain,
)
from services.allocation.domain.quota import QuotaState, decide_validated
from services.allocation.domain.quota_events import (
    Assign,
    BudgetChanged,
    Decline,
    QuotaEvent,
    Release,
    ReleaseReason,
    SeatsChanged,
    Unseat,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.quota_wire import WorkerFacts, to_wire
from services.allocation.domain.sector import Sector
from tests.unit.allocation.factories import MEDAN_SAWIT, opened, worker

PROGRAMME = ProgrammeFacts(
    code="SUMUT-2025",
    name="Uji",
    year=2025,
    funder=Funder.APBD_PROVINSI,
    jurisdiction="12",
    coverage_start=date(2025, 1, 1),
    coverage_end=date(2025, 12, 31),
    premium_per_month=16_800,
    months=12,
    requires_decree=True,
)
IDENTITY = WorkerIdentity(
    nik="1271054507880001", full_name="Rosmawati Sinaga", birth_date="1988-07-05", sex="P"
)


def facts(decile: int | None = 2) -> WorkerFacts:
    return WorkerFacts("nom-1", "12.71", "sawit", decile, IDENTITY)


DECISIONS: list[QuotaEvent] = [
    Assign("w1", "12.71", Sector.SAWIT, promoted=True, desil=2, nomination_seq=1_700_000_000_000_001),
    Waitlist("w1", "12.71", Sector.SAWIT, 2, 42, 1, 3, WaitlistReason.NO_BUDGET),
    Release("w1", ReleaseReason.HELD_BY_OTHER_PROGRAMME, "LABUHANBATU-2025-APBD"),
    Release("w1", ReleaseReason.DIED),
    Decline("w1", "12.71", Sector.SAWIT, "LABUHANBATU-2025-APBD"),
    SeatsChanged("12.71", Sector.SAWIT, 5, 2),
    BudgetChanged(1_000_000, 1),
]


@pytest.mark.parametrize("decision", DECISIONS, ids=lambda d: type(d).__name__)
def test_each_decision_round_trips(decision: QuotaEvent) -> None:
    before = opened({MEDAN_SAWIT: 3}, affordable=10)
    (event,) = to_wire([decision], PROGRAMME, before, {"w1": facts()})

    back = to_domain(event)

    assert back == decision
    if isinstance(decision, Assign):
        assert isinstance(back, Assign)
        assert (back.desil, back.nomination_seq) == (decision.desil, decision.nomination_seq)


def test_an_unseat_round_trips_and_names_who_took_the_seat() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    state.apply(Assign("w0001", "12.71", Sector.SAWIT, desil=2, nomination_seq=1))
    decision = decide_validated(state, worker(2, desil=1))
    wire = to_wire(decision, PROGRAMME, state, {"w0001": facts(2), "w0002": facts(1)})

    assert [type(to_domain(e)) for e in wire] == [Unseat, Assign]
    assert [to_domain(e) for e in wire] == list(decision)
    assert wire[0].model_dump()["by_decile"] == 1  # type: ignore[attr-defined]


def test_a_seat_change_says_what_it_was_and_a_move_says_which_side() -> None:
    state = opened({MEDAN_SAWIT: 3}, affordable=10)
    moved = to_wire(
        [SeatsChanged("12.71", Sector.SAWIT, 1, 0), SeatsChanged("12.04", Sector.NON_SAWIT, 2, 0)],
        PROGRAMME,
        state,
        {},
    )
    payloads = [e.model_dump() for e in moved]

    assert [(p["change"], p["previous_seats"], p["seats"]) for p in payloads] == [
        ("move_out", 3, 1),
        ("move_in", 0, 2),
    ]


def test_dtks_workers_rank_after_every_decile_and_keep_no_decile_on_the_wire() -> None:
    assert rank_desil(None) == DTKS_RANK == 10 and rank_desil(1) == 1
    (event,) = to_wire(
        [Assign("w1", "12.71", Sector.SAWIT, desil=10, nomination_seq=5)],
        PROGRAMME,
        QuotaState(),
        {"w1": facts(None)},
    )
    back = to_domain(event)

    assert event.model_dump()["decile"] is None  # type: ignore[attr-defined]
    assert isinstance(back, Assign) and back.desil == DTKS_RANK


def test_nomination_order_is_exact_to_the_microsecond_in_any_time_zone() -> None:
    at = datetime(2026, 1, 5, 8, 0, 0, 123_457, tzinfo=UTC)
    jakarta = at.astimezone(timezone(timedelta(hours=7)))

    assert nomination_seq(at) == nomination_seq(jakarta) == nomination_seq(at.replace(tzinfo=None))
    assert nomination_seq(at + timedelta(microseconds=1)) == nomination_seq(at) + 1
    assert nominated_at(nomination_seq(at)) == at
