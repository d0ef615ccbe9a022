"""Per-village cap (issue 13, item 8; Labuhanbatu 2025: 100 workers per desa)."""

from __future__ import annotations

from services.allocation.domain.quota import (
    QuotaState,
    ValidatedWorker,
    decide_decree_fixed,
    decide_release,
    decide_validated,
    open_quotas,
    promotions_due,
)
from services.allocation.domain.quota_events import (
    Assign,
    QuotaEvent,
    QuotasOpened,
    ReleaseReason,
    Unseat,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.sector import QuotaCell
from tests.unit.allocation.factories import COST, MEDAN_NON_SAWIT, MEDAN_SAWIT, apply_all, programme

DESA_A = "12.71.01.1001"
DESA_B = "12.71.01.1002"


def capped(seats: dict[QuotaCell, int], cap: int, affordable: int = 100) -> QuotaState:
    return QuotaState.rebuild([QuotasOpened("P", tuple(seats.items()), affordable * COST, COST, True, cap)])


def villager(n: int, desa: str | None, cell: QuotaCell = MEDAN_SAWIT, desil: int = 1) -> ValidatedWorker:
    return ValidatedWorker(f"w{n:04d}", cell.regency, cell.sector, desil, n, desa)


def decide(state: QuotaState, events: tuple[QuotaEvent, ...]) -> tuple[QuotaEvent, ...]:
    apply_all(state, events)
    return events


def test_a_full_village_waits_with_its_own_reason_while_others_are_seated() -> None:
    state = capped({MEDAN_SAWIT: 10}, cap=2)
    for n in (1, 2):
        decide(state, decide_validated(state, villager(n, DESA_A)))

    (third,) = decide(state, decide_validated(state, villager(3, DESA_A)))
    (other,) = decide(state, decide_validated(state, villager(4, DESA_B)))

    assert isinstance(third, Waitlist) and third.reason is WaitlistReason.VILLAGE_FULL
    assert third.desa_code == DESA_A
    assert isinstance(other, Assign)
    assert state.assigned_per_village == {DESA_A: 2, DESA_B: 1}


def test_the_cap_counts_a_village_across_sectors() -> None:
    state = capped({MEDAN_SAWIT: 5, MEDAN_NON_SAWIT: 5}, cap=1)
    decide(state, decide_validated(state, villager(1, DESA_A, MEDAN_SAWIT)))

    (second,) = decide_validated(state, villager(2, DESA_A, MEDAN_NON_SAWIT))

    assert isinstance(second, Waitlist) and second.reason is WaitlistReason.VILLAGE_FULL


def test_a_seat_freed_in_a_village_goes_to_that_villages_waitlist_first() -> None:
    state = capped({MEDAN_SAWIT: 2}, cap=1)
    decide(state, decide_validated(state, villager(1, DESA_A)))
    decide(state, decide_validated(state, villager(2, DESA_B)))
    decide(state, decide_validated(state, villager(3, DESA_B)))  # cell full (and B full)
    decide(state, decide_validated(state, villager(4, DESA_A)))  # A full
    decide(state, decide_decree_fixed(state, "SK-1"))
    assert [e.worker_id for e in state.waitlist] == ["w0003", "w0004"]

    released = decide(state, decide_release(state, "w0001", ReleaseReason.DIED))

    # w0003 ranks first but their village is still full: A's own waiting worker takes A's seat.
    assert [e.worker_id for e in released if isinstance(e, Assign)] == ["w0004"]
    assert [e.worker_id for e in state.waitlist] == ["w0003"]
    assert promotions_due(state) == ()


def test_a_seat_freed_in_a_village_with_nobody_waiting_goes_to_the_next_in_line() -> None:
    state = capped({MEDAN_SAWIT: 2}, cap=2)
    decide(state, decide_validated(state, villager(1, DESA_A)))
    decide(state, decide_validated(state, villager(2, DESA_A)))
    decide(state, decide_validated(state, villager(3, DESA_B)))  # cell full
    decide(state, decide_decree_fixed(state, "SK-1"))

    released = decide(state, decide_release(state, "w0001", ReleaseReason.WITHDRAWN))

    assert [e.worker_id for e in released if isinstance(e, Assign)] == ["w0003"]


def test_before_the_decree_a_poorer_villager_takes_the_seat_of_the_same_village_only() -> None:
    state = capped({MEDAN_SAWIT: 10}, cap=1)
    decide(state, decide_validated(state, villager(1, DESA_B, desil=2)))
    decide(state, decide_validated(state, villager(2, DESA_A, desil=2)))

    decision = decide(state, decide_validated(state, villager(3, DESA_A, desil=1)))

    assert isinstance(decision[0], Unseat) and decision[0].worker_id == "w0002"
    assert decision[0].reason is WaitlistReason.VILLAGE_FULL and decision[0].desa_code == DESA_A
    assert sorted(state.assigned) == ["w0001", "w0003"]


def test_without_a_cap_or_a_desa_code_nobody_is_counted() -> None:
    uncapped = capped({MEDAN_SAWIT: 5}, cap=0)
    uncapped.village_cap = None
    for n in (1, 2, 3):
        decide(uncapped, decide_validated(uncapped, villager(n, DESA_A)))
    assert len(uncapped.assigned) == 3

    state = capped({MEDAN_SAWIT: 5}, cap=1)
    for n in (1, 2):
        decide(state, decide_validated(state, villager(n, None)))
    assert len(state.assigned) == 2


def test_replay_rebuilds_the_village_counts() -> None:
    state = capped({MEDAN_SAWIT: 3}, cap=1)
    events: list[QuotaEvent] = [QuotasOpened("P", ((MEDAN_SAWIT, 3),), 100 * COST, COST, True, 1)]
    for n, desa in ((1, DESA_A), (2, DESA_A), (3, DESA_B)):
        events += decide(state, decide_validated(state, villager(n, desa)))
    events += decide(state, decide_release(state, "w0001", ReleaseReason.DIED))

    rebuilt = QuotaState.rebuild(events)

    assert rebuilt.assigned_per_village == state.assigned_per_village == {DESA_A: 1, DESA_B: 1}
    assert rebuilt.assigned_village == {"w0002": DESA_A, "w0003": DESA_B}


def test_the_programme_files_cap_opens_the_quota() -> None:
    opened = open_quotas(programme(village_cap=100))
    assert opened.village_cap == 100
    assert open_quotas(programme()).village_cap is None
