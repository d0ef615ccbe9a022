import pytest

from services.allocation.domain.budget import BudgetPosition


def test_sumut_2024_cap_is_short_of_its_10000_seats() -> None:
    position = BudgetPosition(
        cap=2_000_000_000, cost_per_worker=16_800 * 12, seats_total=10_000, committed_workers=0
    )

    assert position.quota_cost == 2_016_000_000
    assert position.shortfall == 16_000_000
    assert position.affordable_workers == 9_920
    assert position.fundable_seats == 9_920
    assert position.headroom == 2_000_000_000


def test_sumut_2024_stops_at_the_last_affordable_worker() -> None:
    full = BudgetPosition(2_000_000_000, 201_600, 10_000, committed_workers=9_920)
    one_before = BudgetPosition(2_000_000_000, 201_600, 10_000, committed_workers=9_919)

    assert not full.can_commit_one()
    assert one_before.can_commit_one()
    assert full.committed_rupiah == 1_999_872_000
    assert full.headroom == 128_000  # less than one worker-year


def test_samosir_2026_leaves_30_million_headroom() -> None:
    position = BudgetPosition(
        cap=395_904_000, cost_per_worker=201_600, seats_total=1_815, committed_workers=1_815
    )

    assert position.quota_cost == 365_904_000
    assert position.committed_rupiah == 365_904_000
    assert position.headroom == 30_000_000
    assert position.shortfall == 0
    assert position.affordable_workers == 1_963
    assert position.can_commit_one()


def test_a_cut_cap_shows_overcommitment_not_negative_headroom() -> None:
    position = BudgetPosition(cap=1_000_000, cost_per_worker=201_600, seats_total=10, committed_workers=6)

    assert position.committed_rupiah == 1_209_600
    assert position.headroom == 0
    assert position.overcommitted == 209_600
    assert not position.can_commit_one()


@pytest.mark.parametrize("bad", [2_000_000_000.0, True, "2000000000"])
def test_rupiah_must_be_int(bad: object) -> None:
    with pytest.raises(TypeError):
        BudgetPosition(cap=bad, cost_per_worker=201_600, seats_total=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cap", "cost", "seats", "committed"),
    [(-1, 201_600, 1, 0), (1, 0, 1, 0), (1, 201_600, -1, 0), (1, 201_600, 1, -1)],
)
def test_negative_or_zero_cost_refused(cap: int, cost: int, seats: int, committed: int) -> None:
    with pytest.raises(ValueError):
        BudgetPosition(cap, cost, seats, committed)
