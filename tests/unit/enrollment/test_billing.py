import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrollment.domain.billing import (
    BillLine,
    ConflictingFunderError,
    CoveredWorker,
    PremiumRates,
    monthly_bill,
)
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.settings_defaults import PREMIUM_RATES_DEFAULTS

MARCH = YearMonth(2025, 3)
MEDAN = "12.71"
SAMOSIR = "12.17"


def workers(count: int, funder: str, regency: str, prefix: str) -> list[CoveredWorker]:
    return [CoveredWorker(f"{prefix}-{i}", funder, regency) for i in range(count)]


def test_default_rates_are_the_domain_premium() -> None:
    assert PremiumRates(jkk=10_000, jkm=6_800) == PREMIUM_RATES_DEFAULTS
    assert PREMIUM_RATES_DEFAULTS.per_worker == 16_800


def test_lines_per_funder_and_regency_with_grand_totals() -> None:
    covered = [
        *workers(3, "APBD_PROVINSI", MEDAN, "p"),
        *workers(2, "APBD_KABUPATEN", SAMOSIR, "k"),
        *workers(1, "APBD_PROVINSI", SAMOSIR, "q"),
    ]
    bill = monthly_bill(MARCH, covered, PREMIUM_RATES_DEFAULTS)
    assert bill.lines == (
        BillLine("APBD_KABUPATEN", SAMOSIR, 2, 20_000, 13_600, 33_600),
        BillLine("APBD_PROVINSI", SAMOSIR, 1, 10_000, 6_800, 16_800),
        BillLine("APBD_PROVINSI", MEDAN, 3, 30_000, 20_400, 50_400),
    )
    assert (bill.workers, bill.jkk_total, bill.jkm_total, bill.total) == (
        6,
        60_000,
        40_800,
        100_800,
    )
    assert bill.month == MARCH


def test_samosir_2026_year_costs_what_its_budget_report_says() -> None:
    # DOMAIN.md: 1,815 workers x Rp201,600 (12 months) = Rp365,904,000.
    bill = monthly_bill(MARCH, workers(1_815, "APBD_KABUPATEN", SAMOSIR, "s"), PREMIUM_RATES_DEFAULTS)
    assert bill.total == 30_492_000
    assert bill.total * 12 == 365_904_000


def test_a_worker_listed_twice_identically_is_billed_once() -> None:
    worker = CoveredWorker("w-1", "DBH_SAWIT", "12.11")
    bill = monthly_bill(MARCH, [worker, worker], PREMIUM_RATES_DEFAULTS)
    assert bill.workers == 1
    assert bill.total == 16_800


def test_a_worker_under_two_funders_is_refused() -> None:
    covered = [CoveredWorker("w-1", "DBH_SAWIT", "12.11"), CoveredWorker("w-1", "APBD_KABUPATEN", "12.11")]
    with pytest.raises(ConflictingFunderError):
        monthly_bill(MARCH, covered, PREMIUM_RATES_DEFAULTS)


def test_no_covered_workers_gives_an_empty_bill() -> None:
    bill = monthly_bill(MARCH, [], PREMIUM_RATES_DEFAULTS)
    assert (bill.lines, bill.workers, bill.total) == ((), 0, 0)


@pytest.mark.parametrize("jkk, jkm", [(-1, 6_800), (10_000, -5), (True, 6_800)])
def test_rates_must_be_whole_non_negative_rupiah(jkk: int, jkm: int) -> None:
    with pytest.raises(ValueError):
        PremiumRates(jkk=jkk, jkm=jkm)


covered_workers = st.lists(
    st.builds(
        CoveredWorker,
        worker_id=st.uuids().map(str),
        funder=st.sampled_from(["APBD_PROVINSI", "APBD_KABUPATEN", "DBH_SAWIT", "SILPA_DBH_SAWIT"]),
        regency=st.sampled_from(["12.71", "12.17", "12.10", "12.04"]),
    ),
    max_size=200,
)
rates = st.builds(PremiumRates, jkk=st.integers(min_value=0, max_value=50_000), jkm=st.integers(0, 50_000))


@settings(max_examples=100, deadline=None)
@given(covered_workers, rates)
def test_lines_add_up_to_the_grand_totals(covered: list[CoveredWorker], rates: PremiumRates) -> None:
    bill = monthly_bill(MARCH, covered, rates)
    assert sum(line.workers for line in bill.lines) == bill.workers == len(covered)
    assert sum(line.jkk_total for line in bill.lines) == bill.jkk_total
    assert sum(line.jkm_total for line in bill.lines) == bill.jkm_total
    assert sum(line.total for line in bill.lines) == bill.total
    assert bill.total == bill.jkk_total + bill.jkm_total == bill.workers * rates.per_worker
    for line in bill.lines:
        assert line.total == line.jkk_total + line.jkm_total == line.workers * rates.per_worker
        assert line.workers > 0
    assert list(bill.lines) == sorted(bill.lines, key=lambda line: (line.funder, line.regency))


@settings(max_examples=50, deadline=None)
@given(covered_workers)
def test_default_rates_bill_exactly_16800_per_worker(covered: list[CoveredWorker]) -> None:
    bill = monthly_bill(MARCH, covered, PREMIUM_RATES_DEFAULTS)
    assert bill.total == len(covered) * 16_800
    assert all(isinstance(v, int) for v in (bill.total, bill.jkk_total, bill.jkm_total))
