from collections.abc import Callable

import pytest

from services.allocation.domain.quota import (
    Decision,
    QuotaError,
    QuotaState,
    decide_budget,
    decide_decree_fixed,
    decide_move,
    decide_release,
    decide_seats,
    decide_validated,
    open_quotas,
    promotions_due,
)
from services.allocation.domain.quota_events import (
    Assign,
    BudgetChanged,
    DecreeFixed,
    QuotaEvent,
    Release,
    ReleaseReason,
    SeatsChanged,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.sector import Sector
from tests.unit.allocation.factories import (
    COST,
    MEDAN_NON_SAWIT,
    MEDAN_SAWIT,
    NIAS_NON_SAWIT,
    apply_all,
    opened,
    programme,
    worker,
)

ENROLLMENT_FAILED = ReleaseReason.ENROLLMENT_FAILED


def decide_and_apply(state: QuotaState, events: tuple[QuotaEvent, ...]) -> tuple[QuotaEvent, ...]:
    apply_all(state, events)
    return events


def test_assign_while_seats_and_budget_last() -> None:
    state = opened({MEDAN_SAWIT: 2}, affordable=10)

    first = decide_and_apply(state, decide_validated(state, worker(1)))
    second = decide_and_apply(state, decide_validated(state, worker(2)))
    third = decide_validated(state, worker(3))

    assert first == (Assign("w0001", "12.71", Sector.SAWIT),)
    assert second == (Assign("w0002", "12.71", Sector.SAWIT),)
    assert third == (Waitlist("w0003", "12.71", Sector.SAWIT, 1, 3, 0, 1, WaitlistReason.NO_SEAT),)


def test_budget_limits_assignment_even_with_free_seats() -> None:
    state = opened({MEDAN_SAWIT: 5, NIAS_NON_SAWIT: 5}, affordable=2)
    for n in (1, 2):
        decide_and_apply(state, decide_validated(state, worker(n)))

    (decision,) = decide_validated(state, worker(3, NIAS_NON_SAWIT))

    assert isinstance(decision, Waitlist)
    assert decision.reason is WaitlistReason.NO_BUDGET
    assert state.budget().headroom == 0


def test_sumut_2024_assigns_9920_of_10000() -> None:
    p = programme(
        year=2024,
        coverage_start="2024-01-01",
        budget_cap=2_000_000_000,
        quotas=[{"regency": "12.71", "sector": "sawit", "seats": 10_000}],
    )
    state = QuotaState.rebuild([open_quotas(p)])
    for n in range(10_000):
        decide_and_apply(state, decide_validated(state, worker(n)))

    assert len(state.assigned) == 9_920
    assert len(state.waitlist) == 80
    assert state.waitlist[0].reason is WaitlistReason.NO_BUDGET
    assert state.budget().shortfall == 16_000_000


def test_waitlist_orders_desil_then_nomination() -> None:
    state = opened({MEDAN_SAWIT: 0}, affordable=10)
    arrivals = [
        worker(1, desil=2, seq=10),
        worker(2, desil=1, seq=30),
        worker(3, desil=2, seq=5),
        worker(4, desil=1, seq=20),
    ]
    positions = []
    for w in arrivals:
        (entry,) = decide_and_apply(state, decide_validated(state, w))
        assert isinstance(entry, Waitlist)
        positions.append(entry.position)

    assert positions == [1, 1, 2, 1]  # position when decided
    assert [e.worker_id for e in state.waitlist] == ["w0004", "w0002", "w0003", "w0001"]
    assert state.position("w0001") == 4 and state.position("w9999") is None


def test_a_raise_fills_the_waitlist_in_order() -> None:
    state = opened({MEDAN_SAWIT: 0}, affordable=10)
    for w in [worker(1, desil=2, seq=1), worker(2, desil=1, seq=2), worker(3, desil=1, seq=3)]:
        decide_and_apply(state, decide_validated(state, w))

    decision = decide_seats(state, MEDAN_SAWIT, 2)

    assert decision == (
        SeatsChanged("12.71", Sector.SAWIT, 2, 0),
        Assign("w0002", "12.71", Sector.SAWIT, promoted=True),
        Assign("w0003", "12.71", Sector.SAWIT, promoted=True),
    )
    apply_all(state, decision)
    assert [e.worker_id for e in state.waitlist] == ["w0001"]


def test_release_promotes_the_first_waiting_worker_of_that_cell() -> None:
    state = opened({MEDAN_SAWIT: 1, NIAS_NON_SAWIT: 1}, affordable=10)
    for w in [
        worker(1),
        worker(2, NIAS_NON_SAWIT),
        worker(3, NIAS_NON_SAWIT, desil=2),
        worker(4, desil=2),
        worker(5, desil=1),
    ]:
        decide_and_apply(state, decide_validated(state, w))

    decision = decide_release(state, "w0001", ReleaseReason.DIED)

    assert decision == (
        Release("w0001", ReleaseReason.DIED),
        Assign("w0005", "12.71", Sector.SAWIT, promoted=True),
    )


def test_freed_budget_goes_to_the_first_waiting_worker_of_any_cell() -> None:
    state = opened({MEDAN_SAWIT: 1, NIAS_NON_SAWIT: 2}, affordable=2)
    for w in [worker(1), worker(2, NIAS_NON_SAWIT), worker(3, NIAS_NON_SAWIT), worker(4, desil=1)]:
        decide_and_apply(state, decide_validated(state, w))
    # w3 waits for budget, w4 for a Medan seat; releasing w1 frees a Medan seat and one budget.

    decision = decide_release(state, "w0001", ENROLLMENT_FAILED)

    assert decision[1:] == (Assign("w0003", "12.04", Sector.NON_SAWIT, promoted=True),)
    apply_all(state, decision)
    assert state.position("w0004") == 1
    assert promotions_due(state) == ()


def test_releasing_a_waiting_worker_promotes_nobody() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    for n in (1, 2, 3):
        decide_and_apply(state, decide_validated(state, worker(n)))

    decision = decide_and_apply(state, decide_release(state, "w0002", ReleaseReason.WITHDRAWN))

    assert decision == (Release("w0002", ReleaseReason.WITHDRAWN),)
    assert [e.worker_id for e in state.waitlist] == ["w0003"]
    assert state.position("w0003") == 1


def test_decisions_are_idempotent() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    for n in (1, 2):
        decide_and_apply(state, decide_validated(state, worker(n)))

    assert decide_validated(state, worker(1)) == ()
    assert decide_validated(state, worker(2)) == ()
    assert decide_validated(state, worker(1, NIAS_NON_SAWIT)) == ()  # same worker, other cell
    decide_and_apply(state, decide_release(state, "w0001", ReleaseReason.WITHDRAWN))
    assert decide_release(state, "w0001", ReleaseReason.WITHDRAWN) == ()
    assert decide_release(state, "nobody", ReleaseReason.DIED) == ()
    assert decide_seats(state, MEDAN_SAWIT, 1) == ()


def test_a_cut_below_assigned_keeps_everyone_and_stops_assigning() -> None:
    state = opened({MEDAN_SAWIT: 3}, affordable=10)
    for n in (1, 2, 3):
        decide_and_apply(state, decide_validated(state, worker(n)))

    cut = decide_and_apply(state, decide_seats(state, MEDAN_SAWIT, 1))

    assert cut == (SeatsChanged("12.71", Sector.SAWIT, 1, over_assigned=2),)
    assert set(state.assigned) == {"w0001", "w0002", "w0003"}
    assert state.over_assigned(MEDAN_SAWIT) == 2
    (late,) = decide_and_apply(state, decide_validated(state, worker(4)))
    assert isinstance(late, Waitlist)

    # Two releases only bring the cell back to its seats; the third frees a seat for w4.
    for wid in ("w0001", "w0002"):
        released = decide_and_apply(state, decide_release(state, wid, ReleaseReason.WITHDRAWN))
        assert released == (Release(wid, ReleaseReason.WITHDRAWN),)
    last = decide_release(state, "w0003", ReleaseReason.WITHDRAWN)
    assert last[1:] == (Assign("w0004", "12.71", Sector.SAWIT, promoted=True),)


def test_a_budget_cut_keeps_everyone_and_a_raise_reflows() -> None:
    state = opened({MEDAN_SAWIT: 10}, affordable=3)
    for n in range(1, 6):
        decide_and_apply(state, decide_validated(state, worker(n)))

    cut = decide_and_apply(state, decide_budget(state, 2 * COST))
    assert cut == (BudgetChanged(2 * COST, over_committed=1),)
    assert len(state.assigned) == 3
    assert state.budget().overcommitted == COST

    raised = decide_budget(state, 5 * COST + COST - 1)  # 5 workers and change
    assert [e.worker_id for e in raised if isinstance(e, Assign)] == ["w0004", "w0005"]


def test_moving_seats_between_regencies() -> None:
    state = opened({MEDAN_SAWIT: 2, NIAS_NON_SAWIT: 0}, affordable=10)
    for w in [worker(1), worker(2, NIAS_NON_SAWIT), worker(3, NIAS_NON_SAWIT)]:
        decide_and_apply(state, decide_validated(state, w))

    decision = decide_and_apply(state, decide_move(state, MEDAN_SAWIT, NIAS_NON_SAWIT, 1))

    assert decision == (
        SeatsChanged("12.71", Sector.SAWIT, 1, 0),
        SeatsChanged("12.04", Sector.NON_SAWIT, 1, 0),
        Assign("w0002", "12.04", Sector.NON_SAWIT, promoted=True),
    )
    assert state.seats == {MEDAN_SAWIT: 1, NIAS_NON_SAWIT: 1}


def test_moving_seats_to_a_new_cell() -> None:
    state = opened({MEDAN_SAWIT: 2}, affordable=10)

    decision = decide_move(state, MEDAN_SAWIT, MEDAN_NON_SAWIT, 2)

    assert decision == (
        SeatsChanged("12.71", Sector.SAWIT, 0, 0),
        SeatsChanged("12.71", Sector.NON_SAWIT, 2, 0),
    )


@pytest.mark.parametrize("seats", [0, -1, 3])
def test_impossible_moves_are_refused(seats: int) -> None:
    state = opened({MEDAN_SAWIT: 2}, affordable=10)

    with pytest.raises(QuotaError):
        decide_move(state, MEDAN_SAWIT, NIAS_NON_SAWIT, seats)


def test_other_impossible_commands_are_refused() -> None:
    state = opened({MEDAN_SAWIT: 2}, affordable=10)

    with pytest.raises(QuotaError):
        decide_move(state, MEDAN_SAWIT, MEDAN_SAWIT, 1)
    with pytest.raises(QuotaError):
        decide_seats(state, MEDAN_SAWIT, -1)
    with pytest.raises(QuotaError):
        decide_budget(state, -1)
    with pytest.raises(QuotaError, match="not open"):
        decide_validated(QuotaState(), worker(1))


def test_workers_waitlisted_after_a_decree_rank_behind() -> None:
    state = opened({MEDAN_SAWIT: 0}, affordable=10)
    decide_and_apply(state, decide_validated(state, worker(1, desil=2)))
    fixed = decide_and_apply(state, decide_decree_fixed(state, "188.44/123/KPTS/2025"))
    (late,) = decide_and_apply(state, decide_validated(state, worker(2, desil=1)))

    assert fixed == (DecreeFixed("188.44/123/KPTS/2025"),)
    assert decide_decree_fixed(state, "188.44/123/KPTS/2025") == ()
    assert isinstance(late, Waitlist) and late.decree_round == 1 and late.position == 2
    promoted = decide_seats(state, MEDAN_SAWIT, 1)
    assert promoted[1:] == (Assign("w0001", "12.71", Sector.SAWIT, promoted=True),)


def test_decisions_do_not_touch_the_state() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    for n in (1, 2):
        decide_and_apply(state, decide_validated(state, worker(n)))
    before = state.copy()

    decide_release(state, "w0001", ReleaseReason.DIED)
    decide_seats(state, MEDAN_SAWIT, 5)
    decide_move(state, MEDAN_SAWIT, NIAS_NON_SAWIT, 1)
    decide_budget(state, 0)
    decide_validated(state, worker(3))

    assert state == before


def test_rebuild_from_events_gives_the_same_state() -> None:
    p = programme()
    state = QuotaState.rebuild([open_quotas(p)])
    log: list[QuotaEvent] = [open_quotas(p)]
    commands: list[Callable[[], Decision]] = [
        lambda: decide_validated(state, worker(1)),
        lambda: decide_validated(state, worker(2, NIAS_NON_SAWIT, desil=2)),
        lambda: decide_seats(state, NIAS_NON_SAWIT, 0),
        lambda: decide_validated(state, worker(3, NIAS_NON_SAWIT)),
        lambda: decide_move(state, MEDAN_SAWIT, NIAS_NON_SAWIT, 1),
        lambda: decide_release(state, "w0001", ReleaseReason.DIED),
    ]
    for command in commands:
        log.extend(decide_and_apply(state, command()))

    assert QuotaState.rebuild(log) == state
    assert state.version == len(log)


def test_open_quotas_from_a_programme() -> None:
    opening = open_quotas(programme())
    state = QuotaState.rebuild([opening])

    assert state.programme_code == "SUMUT-2025"
    assert state.seats == {MEDAN_SAWIT: 60, NIAS_NON_SAWIT: 40}
    assert state.affordable_workers == 100
    assert state.budget().quota_cost == 100 * COST


_ASSIGN = Assign("w1", "12.71", Sector.SAWIT)


@pytest.mark.parametrize(
    ("open_first", "events"),
    [
        (False, [_ASSIGN]),
        (True, [_ASSIGN, _ASSIGN]),
        (True, [Release("w1", ReleaseReason.DIED)]),
        (True, [DecreeFixed("1"), DecreeFixed("1")]),
        (True, [open_quotas(programme())]),
    ],
)
def test_contradicting_events_are_refused_on_replay(open_first: bool, events: list[QuotaEvent]) -> None:
    stream = [open_quotas(programme()), *events] if open_first else events

    with pytest.raises(QuotaError):
        QuotaState.rebuild(stream)
