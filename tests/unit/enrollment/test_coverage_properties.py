"""Properties of coverage that must hold for any payment history."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrollment.domain.coverage import (
    CoverageLedger,
    CoveragePolicy,
    Enrollment,
    PremiumPayment,
)
from services.enrollment.domain.months import YearMonth

ENROLLMENT = Enrollment(
    enrolled_on=date(2025, 2, 14), coverage_start=date(2025, 1, 1), coverage_end=date(2025, 12, 31)
)
MONTHS = [YearMonth(2025, m) for m in range(1, 13)]

paid_months = st.sets(st.sampled_from(MONTHS))
policies = st.builds(CoveragePolicy, grace_months=st.integers(min_value=0, max_value=3))
days = st.dates(min_value=date(2024, 12, 1), max_value=date(2026, 1, 31))
# Payment delays of 0-120 days after the month starts, so some arrive in arrears.
delays = st.integers(min_value=0, max_value=120)


def ledger_of(months: set[YearMonth], delay_days: int = 0) -> CoverageLedger:
    payments = [PremiumPayment(m, m.first_day + timedelta(days=delay_days)) for m in months]
    return CoverageLedger.from_facts([ENROLLMENT, *payments])


@settings(max_examples=150, deadline=None)
@given(paid_months, policies, days)
def test_answer_agrees_with_covered_periods(
    months: set[YearMonth], policy: CoveragePolicy, day: date
) -> None:
    ledger = ledger_of(months)
    answer = ledger.is_covered(day, policy)
    containing = [p for p in ledger.covered_periods(policy) if p[0] <= day <= p[1]]
    assert answer.covered == bool(containing)
    assert answer.period == (containing[0] if containing else None)


@settings(max_examples=150, deadline=None)
@given(paid_months, st.sampled_from(MONTHS), policies, days)
def test_paying_one_more_month_never_uncovers_a_day(
    months: set[YearMonth], extra: YearMonth, policy: CoveragePolicy, day: date
) -> None:
    before = ledger_of(months).is_covered(day, policy).covered
    after = ledger_of(months | {extra}).is_covered(day, policy).covered
    assert after or not before


@settings(max_examples=100, deadline=None)
@given(policies, days)
def test_fully_paid_coverage_is_exactly_the_window(policy: CoveragePolicy, day: date) -> None:
    covered = ledger_of(set(MONTHS)).is_covered(day, policy).covered
    assert covered == (ENROLLMENT.enrolled_on <= day <= ENROLLMENT.coverage_end)


@settings(max_examples=150, deadline=None)
@given(paid_months, delays, policies, days, days)
def test_knowing_less_never_covers_more(
    months: set[YearMonth], delay: int, policy: CoveragePolicy, day: date, known_at: date
) -> None:
    ledger = ledger_of(months, delay)
    then = ledger.is_covered(day, policy, known_at=known_at).covered
    now = ledger.is_covered(day, policy).covered
    assert now or not then


@settings(max_examples=100, deadline=None)
@given(paid_months, policies, days)
def test_lapse_check_only_reports_uncovered_days(
    months: set[YearMonth], policy: CoveragePolicy, as_of: date
) -> None:
    ledger = ledger_of(months)
    ended = ledger.lapse_check(as_of, policy)
    if ended is not None:
        assert ledger.is_covered(ended, policy).covered
        assert not ledger.is_covered(ended + timedelta(days=1), policy).covered
