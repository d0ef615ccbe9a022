"""North Sumatra 2024 (docs/examples/sumut-2024.yaml): Rp2,000,000,000 for 10,000 workers, which
buys 9,920 worker-years (Rp16,000,000 short), run as a year at 1/100 of its size: 100 seats and
Rp20,000,000 (Rp160,000 short), so the 100th worker waits until a death frees the money. (A
regency that stops paying is Sumut 2025's case: billing 32 regencies one by one costs time.)"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from lindung_cli.benchmarks.programme_year import (
    People,
    Plan,
    Stack,
    read_programme,
    run_year,
    scale_programme,
    seats_of,
)
from tests.integration.seeds.checks import (
    assert_audit,
    assert_claims,
    assert_dashboard,
    assert_ended,
    assert_money,
    define_full_size,
)
from tests.integration.seeds.conftest import RUN

pytestmark = pytest.mark.integration

FILE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "sumut-2024.yaml"


async def test_sumut_2024_the_budget_buys_9920_of_10000_and_the_money_reconciles(stack: Stack) -> None:
    spec = read_programme(FILE)
    stack.today(date(2023, 11, 1))
    full = await define_full_size(stack, spec, f"SUMUT-2024-FULL-{RUN}")
    budget = full
    assert (budget["budget_cap"], budget["seats_total"]) == (2_000_000_000, 10_000)
    assert (budget["shortfall"], budget["affordable_workers"]) == (16_000_000, 9_920)

    small = scale_programme(spec, f"SUMUT-2024-{RUN}", Fraction(1, 100))
    assert (sum(seats_of(small).values()), small["budget_cap"]) == (100, 20_000_000)
    people = People(seed=2024, year=2024)
    workers = [people.worker(r, s) for (r, s), n in seats_of(small).items() for _ in range(n)]
    # The last one nominated finds a seat in its regency but no money left for it.
    seated, waiting = workers[:-1], workers[-1:]
    outcome = await run_year(
        stack,
        small,
        seated,
        Plan(signer="Gubernur Sumatera Utara"),
        waiting=waiting,
    )
    year = outcome.year
    view = await year.view()
    assert view["budget"]["shortfall"] == 160_000 and view["budget"]["affordable_workers"] == 99
    assert outcome.promoted is not None and outcome.promoted.worker.nik == waiting[0].nik
    # After the death (the waiting worker took the money it freed) and the withdrawal: 98 hold a
    # seat each, within the money of 99.
    holding = 98
    assert view["budget"]["committed_workers"] == holding
    assert view["budget"]["committed_rupiah"] == holding * 201_600 <= small["budget_cap"]
    active = next(m for m in year.books.members.values() if m.ended is None)
    stack.today(date(2025, 2, 10))
    cases = {
        "IN": (active, "JKK", "MEDICAL", date(2024, 10, 2), 4_000_000, []),
        "GONE": (outcome.withdrawn, "JKK", "MEDICAL", date(2024, 11, 20), 500_000, ["COVERAGE_ENDED"]),
        "DEATH": (outcome.dead, "JKM", "DEATH", date(2024, 3, 12), 42_000_000, []),
    }
    await assert_claims(year, cases)
    money = await assert_money(outcome)
    assert money["billed"] <= small["budget_cap"]
    await assert_ended(outcome)
    summary = await assert_dashboard(outcome, money)
    assert summary["budget"]["cap"] == 20_000_000
    await assert_audit()
