from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.allocation.domain.cross_programme import (
    CrossProgrammeVerdict,
    ProgrammeHold,
    check_cross_programme,
)
from services.allocation.domain.period import Period

YEAR_2025 = Period(date(2025, 1, 1), date(2025, 12, 31))
APRIL_2025_ON = Period(date(2025, 4, 1), date(2026, 3, 31))
YEAR_2024 = Period(date(2024, 1, 1), date(2024, 12, 31))
T0 = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)


def hold(code: str, period: Period, minutes: int) -> ProgrammeHold:
    return ProgrammeHold(code, period, T0 + timedelta(minutes=minutes))


def test_the_first_proposer_keeps_the_worker() -> None:
    apbd = hold("LABUHANBATU-2025-APBD", YEAR_2025, 0)
    dbh = hold("LABUHANBATU-2025-DBH-SAWIT", APRIL_2025_ON, 30)

    assert check_cross_programme([apbd], dbh) == CrossProgrammeVerdict(
        allowed=False, held_by="LABUHANBATU-2025-APBD"
    )


def test_an_earlier_proposal_arriving_late_displaces_the_holder() -> None:
    apbd = hold("LABUHANBATU-2025-APBD", YEAR_2025, 0)
    dbh = hold("LABUHANBATU-2025-DBH-SAWIT", APRIL_2025_ON, 30)

    assert check_cross_programme([dbh], apbd) == CrossProgrammeVerdict(
        allowed=True, displaces=("LABUHANBATU-2025-DBH-SAWIT",)
    )


def test_periods_that_do_not_overlap_do_not_compete() -> None:
    last_year = hold("SUMUT-2024", YEAR_2024, 0)

    assert check_cross_programme([last_year], hold("SUMUT-2025", YEAR_2025, 60)).allowed


def test_the_candidates_own_programme_is_ignored() -> None:
    same = hold("SUMUT-2025", YEAR_2025, 0)

    assert check_cross_programme([same], hold("SUMUT-2025", YEAR_2025, 5)) == (
        CrossProgrammeVerdict(allowed=True)
    )


def test_the_earliest_of_several_holders_is_named() -> None:
    holds = [hold("B", YEAR_2025, 20), hold("A", APRIL_2025_ON, 10), hold("OLD", YEAR_2024, 0)]

    verdict = check_cross_programme(holds, hold("C", YEAR_2025, 30))

    assert verdict == CrossProgrammeVerdict(allowed=False, held_by="A")


def test_a_tie_is_broken_by_programme_code_the_same_way_for_both() -> None:
    a, b = hold("A-2025", YEAR_2025, 0), hold("B-2025", YEAR_2025, 0)

    assert check_cross_programme([a], b).held_by == "A-2025"
    assert check_cross_programme([b], a).allowed


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ProgrammeHold("A", YEAR_2025, datetime(2025, 1, 1))


days = st.integers(0, 700)


@st.composite
def holds(draw: st.DrawFn, code: str) -> ProgrammeHold:
    start = draw(days)
    length = draw(st.integers(0, 400))
    first = date(2024, 1, 1) + timedelta(days=start)
    return hold(code, Period(first, first + timedelta(days=length)), draw(st.integers(0, 5)))


@given(holds("A"), holds("B"))
def test_exactly_one_of_two_overlapping_programmes_may_assign(a: ProgrammeHold, b: ProgrammeHold) -> None:
    a_over_b = check_cross_programme([b], a).allowed
    b_over_a = check_cross_programme([a], b).allowed

    if a.period.overlaps(b.period):
        assert a_over_b != b_over_a
    else:
        assert a_over_b and b_over_a


def test_a_final_hold_is_never_displaced_even_by_an_earlier_proposal() -> None:
    decreed_dbh = ProgrammeHold(
        "LABUHANBATU-2025-DBH-SAWIT", APRIL_2025_ON, T0 + timedelta(hours=1), final=True
    )
    apbd = hold("LABUHANBATU-2025-APBD", YEAR_2025, 0)  # proposed first, arriving after the SK

    assert check_cross_programme([decreed_dbh], apbd) == CrossProgrammeVerdict(
        allowed=False, held_by="LABUHANBATU-2025-DBH-SAWIT"
    )


def test_a_final_hold_outside_the_period_does_not_block() -> None:
    decreed_2024 = ProgrammeHold("SUMUT-2024", YEAR_2024, T0, final=True)

    assert check_cross_programme([decreed_2024], hold("SUMUT-2025", YEAR_2025, 5)).allowed


def test_only_non_final_later_holds_are_displaced() -> None:
    later = hold("B-2025", YEAR_2025, 30)
    candidate = hold("A-2025", YEAR_2025, 0)

    assert check_cross_programme([later], candidate).displaces == ("B-2025",)
    assert not check_cross_programme([replace(later, final=True)], candidate).allowed


# --- only a seat holds a worker (issue 13: one payer per worker, one rule) ---------------------


def test_waiting_elsewhere_keeps_nobody_out_and_is_left_when_seated() -> None:
    # APBD proposed first but has no seat for the worker: DBH Sawit may seat them, and APBD's
    # waitlist lets them go so it can never seat them too.
    apbd_waiting = replace(hold("LABUHANBATU-2025-APBD", YEAR_2025, 0), waiting=True)
    dbh = hold("LABUHANBATU-2025-DBH-SAWIT", APRIL_2025_ON, 30)

    assert check_cross_programme([apbd_waiting], dbh) == CrossProgrammeVerdict(
        allowed=True, waiting_in=("LABUHANBATU-2025-APBD",)
    )


def test_a_seat_still_keeps_the_worker_beside_a_waitlist_place() -> None:
    sumut_seat = hold("SUMUT-2025", YEAR_2025, 10)
    apbd_waiting = replace(hold("LABUHANBATU-2025-APBD", YEAR_2025, 0), waiting=True)
    dbh = hold("LABUHANBATU-2025-DBH-SAWIT", APRIL_2025_ON, 30)

    assert check_cross_programme([apbd_waiting, sumut_seat], dbh) == CrossProgrammeVerdict(
        allowed=False, held_by="SUMUT-2025"
    )


def test_a_waitlist_place_in_a_year_that_does_not_overlap_is_left_alone() -> None:
    waiting_2024 = replace(hold("SUMUT-2024", YEAR_2024, 0), waiting=True)

    assert check_cross_programme([waiting_2024], hold("SUMUT-2025", YEAR_2025, 60)) == (
        CrossProgrammeVerdict(allowed=True)
    )
