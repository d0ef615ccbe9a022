"""Desil priority over provisional seats (before the decree), and one payer per worker."""

from hypothesis import given, settings
from hypothesis import strategies as st

from services.allocation.domain.quota import (
    QuotaState,
    decide_budget,
    decide_decree_fixed,
    decide_release,
    decide_seats,
    decide_validated,
    promotions_due,
)
from services.allocation.domain.quota_events import (
    Assign,
    Decline,
    QuotaEvent,
    QuotasOpened,
    Release,
    ReleaseReason,
    Unseat,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.sector import QuotaCell, Sector
from tests.unit.allocation.factories import (
    COST,
    MEDAN_NON_SAWIT,
    MEDAN_SAWIT,
    NIAS_NON_SAWIT,
    apply_all,
    opened,
    worker,
)

HELD = ReleaseReason.HELD_BY_OTHER_PROGRAMME


def decide_and_apply(state: QuotaState, events: tuple[QuotaEvent, ...]) -> tuple[QuotaEvent, ...]:
    apply_all(state, events)
    return events


def seat_all(state: QuotaState, *workers: tuple[int, QuotaCell, int]) -> None:
    for n, cell, desil in workers:
        decide_and_apply(state, decide_validated(state, worker(n, cell, desil)))


# --- desil before the decree -------------------------------------------------------------------


def test_before_the_decree_desil_1_takes_the_seat_of_the_last_desil_2_of_the_cell() -> None:
    state = opened({MEDAN_SAWIT: 2}, affordable=10)
    seat_all(state, (1, MEDAN_SAWIT, 2), (2, MEDAN_SAWIT, 2))

    decision = decide_and_apply(state, decide_validated(state, worker(3, desil=1)))

    assert decision == (
        Unseat("w0002", "12.71", Sector.SAWIT, 2, 2, 0, 1, WaitlistReason.NO_SEAT, "w0003"),
        Assign("w0003", "12.71", Sector.SAWIT),
    )
    assert set(state.assigned) == {"w0001", "w0003"}
    assert [e.worker_id for e in state.waitlist] == ["w0002"]
    assert state.waiting["w0002"].reason is WaitlistReason.NO_SEAT


def test_the_worst_desil_gives_way_first_then_the_latest_nominated() -> None:
    state = opened({MEDAN_SAWIT: 4}, affordable=10)
    # A DTKS worker (no P3KE desil) ranks after every desil: the handler gives them 10.
    seat_all(state, (1, MEDAN_SAWIT, 2), (2, MEDAN_SAWIT, 10), (3, MEDAN_SAWIT, 2), (4, MEDAN_SAWIT, 1))

    first = decide_and_apply(state, decide_validated(state, worker(5, desil=1)))
    second = decide_and_apply(state, decide_validated(state, worker(6, desil=1)))
    third = decide_and_apply(state, decide_validated(state, worker(7, desil=2)))

    assert [e.worker_id for e in first if isinstance(e, Unseat)] == ["w0002"]  # the DTKS worker
    assert [e.worker_id for e in second if isinstance(e, Unseat)] == ["w0003"]  # latest desil 2
    assert isinstance(third[0], Waitlist)  # desil 2 takes no seat from desil 2
    assert sorted(state.assigned) == ["w0001", "w0004", "w0005", "w0006"]
    assert [e.worker_id for e in state.waitlist] == ["w0003", "w0007", "w0002"]


def test_within_one_desil_the_earlier_nominated_takes_the_seat_before_the_decree() -> None:
    # Issue 13: three desil-1 nominations posted back to back into 2 seats, delivered 3, 2, 1
    # (three partitions): the first two nominated hold the seats, the third waits.
    state = opened({MEDAN_SAWIT: 2}, affordable=10)
    for n, seq in ((3, 30), (2, 20), (1, 10)):
        decide_and_apply(state, decide_validated(state, worker(n, desil=1, seq=seq)))

    assert sorted(state.assigned) == ["w0001", "w0002"]
    assert [e.worker_id for e in state.waitlist] == ["w0003"]


def test_within_one_desil_a_later_nomination_waits() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    decide_and_apply(state, decide_validated(state, worker(1, desil=1, seq=10)))

    (late,) = decide_validated(state, worker(2, desil=1, seq=50))

    assert isinstance(late, Waitlist) and late.position == 1


def test_seats_are_never_taken_in_another_cell_nor_for_budget_elsewhere() -> None:
    state = opened({MEDAN_SAWIT: 1, NIAS_NON_SAWIT: 5}, affordable=1)
    seat_all(state, (1, MEDAN_SAWIT, 2))

    (nias,) = decide_validated(state, worker(2, NIAS_NON_SAWIT, desil=1))

    assert isinstance(nias, Waitlist) and nias.reason is WaitlistReason.NO_BUDGET


def test_when_the_budget_is_spent_desil_1_takes_a_seat_of_its_own_cell() -> None:
    state = opened({MEDAN_SAWIT: 5}, affordable=1)
    seat_all(state, (1, MEDAN_SAWIT, 2))

    unseat, seat = decide_and_apply(state, decide_validated(state, worker(2, desil=1)))

    # The cell has free seats: the worker giving way waits for budget, not for a seat.
    assert isinstance(unseat, Unseat) and unseat.reason is WaitlistReason.NO_BUDGET
    assert seat == Assign("w0002", "12.71", Sector.SAWIT)
    assert len(state.assigned) == state.affordable_workers == 1


def test_after_a_cut_nobody_takes_a_seat_not_even_by_giving_way() -> None:
    # A cut leaves the programme (or the cell) over-assigned: it assigns nobody until releases
    # bring it back under (rule 7), so a poorer worker waits rather than swapping in.
    budget_cut = opened({MEDAN_SAWIT: 5}, affordable=2)
    seat_all(budget_cut, (1, MEDAN_SAWIT, 2), (2, MEDAN_SAWIT, 2))
    decide_and_apply(budget_cut, decide_budget(budget_cut, 1 * COST))
    seats_cut = opened({MEDAN_SAWIT: 2}, affordable=10)
    seat_all(seats_cut, (1, MEDAN_SAWIT, 2), (2, MEDAN_SAWIT, 2))
    decide_and_apply(seats_cut, decide_seats(seats_cut, MEDAN_SAWIT, 1))

    (after_budget_cut,) = decide_validated(budget_cut, worker(3, desil=1))
    (after_seats_cut,) = decide_validated(seats_cut, worker(3, desil=1))

    assert isinstance(after_budget_cut, Waitlist) and after_budget_cut.reason is WaitlistReason.NO_BUDGET
    assert isinstance(after_seats_cut, Waitlist) and after_seats_cut.reason is WaitlistReason.NO_SEAT


def test_after_the_first_decree_seats_are_final() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    seat_all(state, (1, MEDAN_SAWIT, 2))
    decide_and_apply(state, decide_decree_fixed(state, "188.44/1/KPTS/2025"))

    (late,) = decide_validated(state, worker(2, desil=1))

    assert isinstance(late, Waitlist) and late.decree_round == 1
    assert not state.provisional


def test_without_a_decree_requirement_seats_are_final_at_once() -> None:
    state = QuotaState.rebuild([QuotasOpened("DEMO-2026", ((MEDAN_SAWIT, 1),), 10 * COST, COST, False)])
    seat_all(state, (1, MEDAN_SAWIT, 2))

    (late,) = decide_validated(state, worker(2, desil=1))

    assert isinstance(late, Waitlist)


def test_a_worker_who_gave_way_is_first_in_line_for_the_next_seat_of_their_desil() -> None:
    state = opened({MEDAN_SAWIT: 2}, affordable=10)
    seat_all(state, (1, MEDAN_SAWIT, 2), (2, MEDAN_SAWIT, 2), (3, MEDAN_SAWIT, 1), (4, MEDAN_SAWIT, 2))

    raised = decide_seats(state, MEDAN_SAWIT, 3)

    assert [e.worker_id for e in raised if isinstance(e, Assign)] == ["w0002"]


def test_seats_without_a_known_rank_never_give_way() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    state.apply(Assign("old", "12.71", Sector.SAWIT))  # a stored assignment without its rank

    (late,) = decide_validated(state, worker(1, desil=1))

    assert isinstance(late, Waitlist)


def test_unseat_and_assign_replay_to_the_same_state() -> None:
    state = opened({MEDAN_SAWIT: 1, MEDAN_NON_SAWIT: 1}, affordable=2)
    log: list[QuotaEvent] = [QuotasOpened("SUMUT-2025", tuple(state.seats.items()), 2 * COST, COST)]
    for w in [worker(1, desil=2), worker(2, desil=1), worker(3, MEDAN_NON_SAWIT, desil=2)]:
        log.extend(decide_and_apply(state, decide_validated(state, w)))
    log.extend(decide_and_apply(state, decide_release(state, "w0002", ReleaseReason.DIED)))

    assert QuotaState.rebuild(log) == state
    assert "w0001" in state.assigned  # back on the seat it gave up


# --- one payer per worker ----------------------------------------------------------------------


def test_a_worker_held_by_another_programme_is_declined() -> None:
    state = opened({MEDAN_SAWIT: 5}, affordable=10)

    decision = decide_and_apply(state, decide_validated(state, worker(1), held_by="LABUHANBATU-2025-APBD"))

    assert decision == (Decline("w0001", "12.71", Sector.SAWIT, "LABUHANBATU-2025-APBD"),)
    assert state.assigned == {} and state.waitlist == []
    assert decide_release(state, "w0001", ReleaseReason.WITHDRAWN) == ()


def test_a_waiting_worker_held_elsewhere_is_released_when_their_turn_comes() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    seat_all(state, (1, MEDAN_SAWIT, 1), (2, MEDAN_SAWIT, 1), (3, MEDAN_SAWIT, 1))

    decision = decide_release(state, "w0001", ReleaseReason.WITHDRAWN, blocked={"w0002": "OTHER-2025"})

    assert decision == (
        Release("w0001", ReleaseReason.WITHDRAWN),
        Release("w0002", HELD, "OTHER-2025"),
        Assign("w0003", "12.71", Sector.SAWIT, promoted=True),
    )
    apply_all(state, decision)
    assert promotions_due(state) == ()


def test_a_blocked_worker_behind_the_free_seats_is_left_waiting() -> None:
    state = opened({MEDAN_SAWIT: 0}, affordable=10)
    seat_all(state, (1, MEDAN_SAWIT, 1), (2, MEDAN_SAWIT, 1))

    decision = decide_budget(state, 20 * COST, blocked={"w0002": "OTHER-2025"})
    raised = decide_seats(state, MEDAN_SAWIT, 1, blocked={"w0002": "OTHER-2025"})

    assert [type(e).__name__ for e in decision] == ["BudgetChanged"]
    assert raised[1:] == (Assign("w0001", "12.71", Sector.SAWIT, promoted=True),)


def test_a_displaced_hold_is_released_with_the_programme_that_keeps_the_worker() -> None:
    state = opened({MEDAN_SAWIT: 1}, affordable=10)
    seat_all(state, (1, MEDAN_SAWIT, 1), (2, MEDAN_SAWIT, 2))

    decision = decide_release(state, "w0001", HELD, held_by="LABUHANBATU-2025-APBD")

    assert decision == (
        Release("w0001", HELD, "LABUHANBATU-2025-APBD"),
        Assign("w0002", "12.71", Sector.SAWIT, promoted=True),
    )


# --- property: in every cell, before the decree, no waiting worker is poorer than a seated one ---

CELLS = (MEDAN_SAWIT, MEDAN_NON_SAWIT, NIAS_NON_SAWIT)
arrivals = st.lists(
    st.tuples(st.sampled_from(CELLS), st.sampled_from((1, 2, 10)), st.booleans(), st.integers(0, 60)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({c: st.integers(0, 4) for c in CELLS}), st.integers(0, 10), arrivals)
def test_provisional_seats_hold_the_poorest_of_each_cell(
    seats: dict[QuotaCell, int], affordable: int, steps: list[tuple[QuotaCell, int, bool, int]]
) -> None:
    state = opened(seats, affordable)
    # Nomination times arrive in any order (several partitions): `seq` is drawn, not n.
    for n, (cell, desil, release_first_seated, seq) in enumerate(steps):
        if release_first_seated and state.assigned:
            first = min(state.assigned)
            apply_all(state, decide_release(state, first, ReleaseReason.WITHDRAWN))
        apply_all(state, decide_validated(state, worker(n, cell, desil, seq)))
        for c in CELLS:
            # Desil, then nomination order: nobody waiting ranks
            # before a seated worker of their cell.
            seated = list(state.ranked_seats.get(c, []))
            waiting = [(e.desil, e.nomination_seq, e.worker_id) for e in state.waitlist if e.cell == c]
            assert not seated or not waiting or max(seated) < min(waiting)
            assert state.assigned_per_cell.get(c, 0) <= max(state.seats.get(c, 0), 0)
        assert len(state.assigned) <= state.affordable_workers
        assert promotions_due(state) == ()
