"""Summing regency × sector cells, and the budget of a slice."""

from __future__ import annotations

from services.dashboard.domain.figures import COUNTERS, FUNNEL, Counters, budget, by_regency, by_sector, total


def test_cells_sum_per_regency_per_sector_and_in_total() -> None:
    cells = {
        ("12.17", "non_sawit"): Counters(nominated=5, validated=4, assigned=3, seats=4),
        ("12.71", "sawit"): Counters(nominated=4, validated=3, assigned=2, seats=2),
        ("12.71", "non_sawit"): Counters(nominated=1, rejected=1, seats=1),
    }
    regencies = by_regency(cells)
    assert regencies["12.71"] == Counters(nominated=5, validated=3, rejected=1, assigned=2, seats=3)
    sectors = by_sector(cells)
    assert sectors["non_sawit"] == Counters(nominated=6, validated=4, rejected=1, assigned=3, seats=5)
    assert total(cells.values()) == total(regencies.values()) == total(sectors.values())
    assert total(cells.values()).as_dict()["nominated"] == 10
    assert set(Counters().as_dict()) == set(COUNTERS) and set(FUNNEL) <= set(COUNTERS)


def test_the_province_budget_is_held_against_its_cap_a_regency_against_its_allotment() -> None:
    c = Counters(assigned=5, seats=6)
    province = budget(c, 201_600, paid=84_000, programme_cap=2_500_000)
    assert province.as_dict() == {
        "cap": 2_500_000,
        "cost_per_worker": 201_600,
        "allotment": 1_209_600,
        "committed": 1_008_000,
        "paid": 84_000,
        "remaining": 1_492_000,
    }
    regency = budget(c, 201_600, paid=84_000, programme_cap=None)
    assert regency.cap == regency.allotment == 6 * 201_600
    over = budget(Counters(assigned=11, seats=10), 201_600, 0, programme_cap=2_000_000)
    assert over.remaining == 2_000_000 - 11 * 201_600 < 0
