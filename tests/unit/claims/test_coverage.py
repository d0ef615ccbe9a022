"""Coverage of an incident day from enrollment's facts: each reason, in its order of precedence."""

from dataclasses import replace
from datetime import date

import pytest

from libs.months import month_of, plus_months
from services.claims.domain.coverage import (
    CoverageEnd,
    CoverageReason,
    Lapse,
    ProgrammeCoverage,
    judge_incident,
    membership_start,
)

R = CoverageReason
PAID_JAN_TO_JUN = frozenset(f"2025-{m:02d}" for m in range(1, 7))

SUMUT = ProgrammeCoverage(
    worker_id="w1",
    programme_code="SUMUT-2025",
    kpj="KPJ-1",
    regency_code="12.17",
    coverage_start=date(2025, 1, 1),
    coverage_end=date(2025, 12, 31),
    enrolled_on=(date(2025, 1, 10),),
    paid_months=PAID_JAN_TO_JUN,
)


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2024, 12, 31), R.BEFORE_COVERAGE_START),
        (date(2025, 1, 9), R.BEFORE_ENROLLMENT),
        (date(2025, 1, 10), R.COVERED),
        (date(2025, 6, 30), R.COVERED),
        (date(2025, 7, 1), R.MONTH_NOT_PAID),
        (date(2026, 1, 1), R.AFTER_COVERAGE_END),
    ],
)
def test_reason_on_a_day(day: date, expected: CoverageReason) -> None:
    assert SUMUT.reason_on(day) is expected


def test_a_recorded_lapse_reaches_the_unpaid_months_after_it() -> None:
    lapsed = replace(SUMUT, lapses=(Lapse("2025-07", date(2025, 6, 30)),))
    assert lapsed.reason_on(date(2025, 6, 30)) is R.COVERED
    assert lapsed.reason_on(date(2025, 7, 15)) is R.IN_LAPSE
    assert lapsed.reason_on(date(2025, 8, 15)) is R.IN_LAPSE


def test_a_restored_month_is_covered_and_a_later_unpaid_month_is_no_longer_that_lapse() -> None:
    restored = replace(
        SUMUT,
        paid_months=PAID_JAN_TO_JUN | {"2025-07"},  # CoverageRestored for July
        lapses=(Lapse("2025-07", date(2025, 6, 30)),),
    )
    assert restored.reason_on(date(2025, 7, 15)) is R.COVERED
    assert restored.reason_on(date(2025, 8, 15)) is R.MONTH_NOT_PAID


def test_coverage_ended_stops_cover_the_day_after_ended_on() -> None:
    ended = replace(SUMUT, ends=(CoverageEnd(date(2025, 4, 12), False, "died"),))
    assert ended.reason_on(date(2025, 4, 12)) is R.COVERED
    assert ended.reason_on(date(2025, 4, 13)) is R.COVERAGE_ENDED
    assert "died" in ended.explain(date(2025, 4, 13), R.COVERAGE_ENDED)


def test_membership_ended_wins_over_coverage_ended_of_the_same_day_and_a_new_registration_undoes_it() -> None:
    ends = (
        CoverageEnd(date(2025, 3, 31), False, "membership_ended"),
        CoverageEnd(date(2025, 3, 31), True, "membership_ended"),
    )
    ended = replace(SUMUT, ends=ends)
    assert ended.reason_on(date(2025, 4, 2)) is R.MEMBERSHIP_ENDED
    again = replace(ended, enrolled_on=(date(2025, 1, 10), date(2025, 5, 2)))
    assert again.reason_on(date(2025, 4, 2)) is R.MEMBERSHIP_ENDED
    assert again.reason_on(date(2025, 5, 2)) is R.COVERED
    # the first registration still decides "before enrollment"
    assert again.reason_on(date(2025, 1, 5)) is R.BEFORE_ENROLLMENT


def test_before_enrollment_comes_before_unpaid_and_ends() -> None:
    nothing_paid = replace(SUMUT, paid_months=frozenset(), ends=(CoverageEnd(date(2025, 1, 1), False, "x"),))
    assert nothing_paid.reason_on(date(2025, 1, 5)) is R.BEFORE_ENROLLMENT


def test_nobody_known_is_not_enrolled() -> None:
    finding = judge_incident([], "KPJ-9", date(2025, 3, 1))
    assert (finding.reason, finding.programme, finding.covered) == (R.NOT_ENROLLED, None, False)


def test_covered_under_any_programme_is_covered() -> None:
    other = replace(SUMUT, programme_code="LABUHANBATU-2025", kpj="KPJ-2", paid_months=frozenset({"2025-08"}))
    finding = judge_incident([SUMUT, other], "KPJ-1", date(2025, 8, 3))
    assert finding.covered and finding.programme == other


def test_the_claims_own_kpj_explains_first_inside_the_period() -> None:
    other = replace(SUMUT, programme_code="LABUHANBATU-2025", kpj="KPJ-2", enrolled_on=(date(2025, 2, 1),))
    finding = judge_incident([SUMUT, other], "KPJ-2", date(2025, 1, 20))
    # SUMUT covers 20 January: covered wins whatever the KPJ.
    assert finding.covered and finding.programme == SUMUT
    finding = judge_incident([SUMUT, other], "KPJ-2", date(2025, 1, 5))
    assert (finding.reason, finding.programme) == (R.BEFORE_ENROLLMENT, other)


def test_outside_every_period_says_where_the_day_falls() -> None:
    y26 = replace(
        SUMUT, programme_code="SUMUT-2026", coverage_start=date(2026, 3, 1), coverage_end=date(2026, 12, 31)
    )
    between = judge_incident([SUMUT, y26], "KPJ-1", date(2026, 2, 1))
    assert (between.reason, between.programme) == (R.BETWEEN_COVERAGE_PERIODS, SUMUT)
    assert judge_incident([SUMUT, y26], "KPJ-1", date(2024, 5, 1)).reason is R.BEFORE_COVERAGE_START
    assert judge_incident([SUMUT, y26], "KPJ-1", date(2027, 1, 1)).programme == y26


def test_membership_starts_at_the_earliest_registration() -> None:
    earlier = replace(SUMUT, programme_code="SUMUT-2024", enrolled_on=(date(2024, 2, 5),))
    assert membership_start([SUMUT, earlier]) == date(2024, 2, 5)
    assert membership_start([]) is None


def test_a_programme_needs_a_registration_day() -> None:
    with pytest.raises(ValueError):
        replace(SUMUT, enrolled_on=())


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 3, 10), 24, date(2027, 3, 10)),
    ],
)
def test_plus_months(day: date, months: int, expected: date) -> None:
    assert plus_months(day, months) == expected


def test_month_of() -> None:
    assert month_of(date(2025, 3, 9)) == "2025-03"
