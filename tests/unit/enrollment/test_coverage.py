"""Coverage boundaries: start, end, lapse, grace, restoration, knowledge time."""

from datetime import date

import pytest

from services.enrollment.domain.coverage import (
    ConflictingEnrollmentError,
    CoverageAnswer,
    CoverageFact,
    CoverageLedger,
    CoveragePolicy,
    CoverageReason,
    Enrollment,
    Lapse,
    PremiumPayment,
)
from services.enrollment.domain.months import YearMonth

NO_GRACE = CoveragePolicy(grace_months=0)
ONE_MONTH_GRACE = CoveragePolicy(grace_months=1)

# The province's 2025 programme: coverage for the calendar year.
PROGRAMME_START = date(2025, 1, 1)
PROGRAMME_END = date(2025, 12, 31)


def ym(text: str) -> YearMonth:
    return YearMonth.parse(text)


def paid(month: str, on: date) -> PremiumPayment:
    return PremiumPayment(ym(month), on)


def enrolled(on: date) -> Enrollment:
    return Enrollment(enrolled_on=on, coverage_start=PROGRAMME_START, coverage_end=PROGRAMME_END)


def ledger_paid_through(last_month: int, *, enrolled_on: date = date(2024, 12, 20)) -> CoverageLedger:
    """Enrolled before the programme starts; January to `last_month` paid on 28 Dec 2024."""
    payments = [paid(f"2025-{m:02d}", date(2024, 12, 28)) for m in range(1, last_month + 1)]
    return CoverageLedger.from_facts([enrolled(enrolled_on), *payments])


FULLY_PAID = ledger_paid_through(12)


# --- start and end of the window -------------------------------------------------------------


def test_day_before_programme_start_is_not_covered() -> None:
    answer = FULLY_PAID.is_covered(date(2024, 12, 31), NO_GRACE)
    assert answer == CoverageAnswer(False, CoverageReason.BEFORE_COVERAGE_START, None)


def test_programme_start_day_is_covered_for_the_whole_year() -> None:
    answer = FULLY_PAID.is_covered(date(2025, 1, 1), NO_GRACE)
    assert answer == CoverageAnswer(True, CoverageReason.PREMIUM_PAID, (date(2025, 1, 1), date(2025, 12, 31)))


def test_last_day_of_programme_is_covered() -> None:
    assert FULLY_PAID.is_covered(date(2025, 12, 31), NO_GRACE).covered is True


def test_day_after_programme_end_is_not_covered() -> None:
    answer = FULLY_PAID.is_covered(date(2026, 1, 1), NO_GRACE)
    assert answer == CoverageAnswer(False, CoverageReason.AFTER_COVERAGE_END, None)


def test_enrollment_after_programme_start_starts_coverage_on_the_enrollment_day() -> None:
    # Enrolled on 10 March: no KPJ existed before, so 1-9 March are not covered.
    ledger = ledger_paid_through(12, enrolled_on=date(2025, 3, 10))
    assert ledger.is_covered(date(2025, 3, 9), NO_GRACE).reason is (CoverageReason.BEFORE_COVERAGE_START)
    answer = ledger.is_covered(date(2025, 3, 10), NO_GRACE)
    assert answer.covered is True
    assert answer.period == (date(2025, 3, 10), date(2025, 12, 31))


def test_no_enrollment_means_not_covered() -> None:
    answer = CoverageLedger().is_covered(date(2025, 6, 1), NO_GRACE)
    assert answer == CoverageAnswer(False, CoverageReason.NOT_ENROLLED, None)


def test_enrollment_unknown_at_the_time_asked_means_not_enrolled() -> None:
    ledger = ledger_paid_through(12, enrolled_on=date(2025, 3, 10))
    answer = ledger.is_covered(date(2025, 3, 12), NO_GRACE, known_at=date(2025, 3, 9))
    assert answer.reason is CoverageReason.NOT_ENROLLED


def test_enrollment_with_end_before_start_is_refused() -> None:
    with pytest.raises(ValueError):
        Enrollment(date(2025, 1, 1), coverage_start=date(2025, 2, 1), coverage_end=date(2025, 1, 31))


# --- lapse without grace ---------------------------------------------------------------------

PAID_TO_APRIL = ledger_paid_through(4)


def test_last_day_of_last_paid_month_is_covered() -> None:
    answer = PAID_TO_APRIL.is_covered(date(2025, 4, 30), NO_GRACE)
    assert answer == CoverageAnswer(True, CoverageReason.PREMIUM_PAID, (date(2025, 1, 1), date(2025, 4, 30)))


def test_first_day_after_last_paid_month_is_not_covered() -> None:
    answer = PAID_TO_APRIL.is_covered(date(2025, 5, 1), NO_GRACE)
    assert answer == CoverageAnswer(False, CoverageReason.PREMIUM_UNPAID, None)


def test_lapse_check_finds_nothing_while_the_last_paid_month_runs() -> None:
    assert PAID_TO_APRIL.lapse_check(date(2025, 4, 30), NO_GRACE) is None


def test_lapse_check_returns_the_last_covered_day_once_a_month_is_unpaid() -> None:
    assert PAID_TO_APRIL.lapse_check(date(2025, 5, 1), NO_GRACE) == date(2025, 4, 30)
    assert PAID_TO_APRIL.lapse_check(date(2025, 9, 15), NO_GRACE) == date(2025, 4, 30)


def test_lapse_check_after_the_programme_ended_still_reports_an_unpaid_last_month() -> None:
    ledger = ledger_paid_through(11)
    assert ledger.lapse_check(date(2026, 2, 1), NO_GRACE) == date(2025, 11, 30)
    assert FULLY_PAID.lapse_check(date(2026, 2, 1), NO_GRACE) is None


def test_lapse_check_before_coverage_starts_is_none() -> None:
    assert PAID_TO_APRIL.lapse_check(date(2024, 12, 31), NO_GRACE) is None


def test_months_due_lists_unpaid_months_that_have_started() -> None:
    assert PAID_TO_APRIL.months_due(date(2025, 4, 30)) == []
    assert PAID_TO_APRIL.months_due(date(2025, 5, 1)) == [ym("2025-05")]
    assert PAID_TO_APRIL.months_due(date(2025, 7, 1)) == [ym("2025-05"), ym("2025-06"), ym("2025-07")]
    assert PAID_TO_APRIL.months_due(date(2024, 12, 31)) == []
    assert CoverageLedger().months_due(date(2025, 5, 1)) == []


def test_months_due_counts_only_payments_made_by_then() -> None:
    ledger = CoverageLedger.from_facts([enrolled(date(2024, 12, 20)), paid("2025-01", date(2025, 1, 15))])
    assert ledger.months_due(date(2025, 1, 14)) == [ym("2025-01")]
    assert ledger.months_due(date(2025, 1, 15)) == []


# --- grace ----------------------------------------------------------------------------------


def test_one_month_grace_keeps_the_first_unpaid_month_covered() -> None:
    answer = PAID_TO_APRIL.is_covered(date(2025, 5, 31), ONE_MONTH_GRACE)
    assert answer == CoverageAnswer(True, CoverageReason.IN_GRACE, (date(2025, 1, 1), date(2025, 5, 31)))
    assert PAID_TO_APRIL.is_covered(date(2025, 6, 1), ONE_MONTH_GRACE).reason is (
        CoverageReason.PREMIUM_UNPAID
    )


def test_lapse_check_with_grace_waits_for_the_grace_month_to_end() -> None:
    assert PAID_TO_APRIL.lapse_check(date(2025, 5, 31), ONE_MONTH_GRACE) is None
    assert PAID_TO_APRIL.lapse_check(date(2025, 6, 1), ONE_MONTH_GRACE) == date(2025, 5, 31)


def test_grace_does_not_start_coverage_that_never_began() -> None:
    # Enrolled, but the first month was never paid: BPU coverage starts with the first premium.
    ledger = CoverageLedger.from_facts([enrolled(date(2024, 12, 20))])
    answer = ledger.is_covered(date(2025, 1, 15), CoveragePolicy(grace_months=3))
    assert answer.reason is CoverageReason.PREMIUM_UNPAID
    assert ledger.lapse_check(date(2025, 2, 1), NO_GRACE) is None
    assert ledger.months_due(date(2025, 2, 1)) == [ym("2025-01"), ym("2025-02")]


def test_grace_never_runs_past_the_programme_end() -> None:
    ledger = ledger_paid_through(12)
    assert ledger.is_covered(date(2026, 1, 5), CoveragePolicy(grace_months=2)).covered is False


def test_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError):
        CoveragePolicy(grace_months=-1)


# --- restoration ----------------------------------------------------------------------------


def test_paying_a_later_month_restores_coverage_from_its_first_day_leaving_a_gap() -> None:
    ledger = PAID_TO_APRIL.record(paid("2025-06", date(2025, 6, 10)))
    assert ledger.is_covered(date(2025, 5, 31), NO_GRACE).covered is False
    answer = ledger.is_covered(date(2025, 6, 1), NO_GRACE)
    assert answer == CoverageAnswer(True, CoverageReason.PREMIUM_PAID, (date(2025, 6, 1), date(2025, 6, 30)))
    assert ledger.covered_periods(NO_GRACE) == [
        (date(2025, 1, 1), date(2025, 4, 30)),
        (date(2025, 6, 1), date(2025, 6, 30)),
    ]


def test_paying_the_lapsed_month_restores_continuity() -> None:
    ledger = PAID_TO_APRIL.record(paid("2025-06", date(2025, 6, 10))).record(
        paid("2025-05", date(2025, 6, 10))
    )
    assert ledger.covered_periods(NO_GRACE) == [(date(2025, 1, 1), date(2025, 6, 30))]
    assert ledger.is_covered(date(2025, 5, 20), NO_GRACE).period == (
        date(2025, 1, 1),
        date(2025, 6, 30),
    )


def test_an_incident_during_a_lapse_stays_uncovered_as_known_on_the_incident_day() -> None:
    # May paid late, on 10 June: today's view covers 20 May, the view on 20 May does not.
    ledger = PAID_TO_APRIL.record(paid("2025-05", date(2025, 6, 10)))
    incident = date(2025, 5, 20)
    assert ledger.is_covered(incident, NO_GRACE).covered is True
    answer = ledger.is_covered(incident, NO_GRACE, known_at=incident)
    assert answer == CoverageAnswer(False, CoverageReason.PREMIUM_UNPAID, None)


def test_grace_applies_again_after_restoration() -> None:
    ledger = PAID_TO_APRIL.record(paid("2025-06", date(2025, 6, 10)))
    assert ledger.covered_periods(ONE_MONTH_GRACE) == [(date(2025, 1, 1), date(2025, 7, 31))]
    assert ledger.lapse_check(date(2025, 8, 1), ONE_MONTH_GRACE) == date(2025, 7, 31)


# --- recorded lapses ------------------------------------------------------------------------


def test_lapse_to_record_names_the_first_unpaid_month_and_is_offered_once() -> None:
    lapse = PAID_TO_APRIL.lapse_to_record(date(2025, 5, 3), NO_GRACE)
    assert lapse == Lapse(ym("2025-05"), coverage_ended_on=date(2025, 4, 30), recorded_on=date(2025, 5, 3))
    assert PAID_TO_APRIL.record(lapse).lapse_to_record(date(2025, 5, 4), NO_GRACE) is None


def test_a_recorded_lapse_stands_when_the_grace_setting_grows_later() -> None:
    lapse = Lapse(ym("2025-05"), coverage_ended_on=date(2025, 4, 30), recorded_on=date(2025, 5, 1))
    ledger = PAID_TO_APRIL.record(lapse)
    two_months = CoveragePolicy(grace_months=2)
    assert ledger.is_covered(date(2025, 5, 15), two_months).covered is False
    assert ledger.lapse_check(date(2025, 5, 15), two_months) == date(2025, 4, 30)
    # Asked as known before the lapse was recorded, the grace setting decides.
    assert ledger.is_covered(date(2025, 5, 15), two_months, known_at=date(2025, 4, 30)).covered


def test_a_recorded_lapse_no_longer_applies_once_its_month_is_paid() -> None:
    lapse = Lapse(ym("2025-05"), coverage_ended_on=date(2025, 4, 30), recorded_on=date(2025, 5, 1))
    ledger = PAID_TO_APRIL.record(lapse).record(paid("2025-05", date(2025, 5, 20)))
    assert ledger.is_covered(date(2025, 5, 15), NO_GRACE).covered is True
    assert ledger.lapse_check(date(2025, 5, 25), NO_GRACE) is None


# --- facts arriving twice or in any order ---------------------------------------------------


def test_a_month_paid_twice_keeps_its_earliest_payment() -> None:
    ledger = CoverageLedger.from_facts(
        [
            enrolled(date(2024, 12, 20)),
            paid("2025-01", date(2025, 1, 20)),
            paid("2025-01", date(2025, 1, 5)),
            paid("2025-01", date(2025, 1, 30)),
        ]
    )
    assert ledger.payments == (paid("2025-01", date(2025, 1, 5)),)


def test_facts_in_any_order_give_the_same_ledger() -> None:
    facts: list[CoverageFact] = [
        enrolled(date(2024, 12, 20)),
        paid("2025-02", date(2025, 2, 3)),
        paid("2025-01", date(2025, 1, 3)),
        Lapse(ym("2025-03"), date(2025, 2, 28), date(2025, 3, 1)),
    ]
    assert CoverageLedger.from_facts(facts) == CoverageLedger.from_facts(reversed(facts))


def test_the_same_enrollment_twice_is_harmless_and_a_different_one_is_refused() -> None:
    ledger = FULLY_PAID.record(enrolled(date(2024, 12, 20)))
    assert ledger == FULLY_PAID
    with pytest.raises(ConflictingEnrollmentError):
        FULLY_PAID.record(enrolled(date(2025, 2, 1)))


def test_payments_outside_the_window_cover_nothing() -> None:
    ledger = CoverageLedger.from_facts([enrolled(date(2024, 12, 20)), paid("2026-01", date(2025, 12, 1))])
    assert ledger.is_covered(date(2026, 1, 10), NO_GRACE).reason is CoverageReason.AFTER_COVERAGE_END
    assert ledger.covered_periods(NO_GRACE) == []
