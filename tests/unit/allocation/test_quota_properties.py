"""Properties of the quota rules over arbitrary sequences of commands."""

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from services.allocation.domain.quota import (
    Decision,
    QuotaState,
    decide_budget,
    decide_decree_fixed,
    decide_move,
    decide_release,
    decide_seats,
    decide_validated,
    promotions_due,
)
from services.allocation.domain.quota_events import Assign, QuotaEvent, ReleaseReason, Waitlist
from services.allocation.domain.sector import QuotaCell
from tests.unit.allocation.factories import (
    COST,
    MEDAN_NON_SAWIT,
    MEDAN_SAWIT,
    NIAS_NON_SAWIT,
    opened,
    worker,
)

CELLS = (MEDAN_SAWIT, MEDAN_NON_SAWIT, NIAS_NON_SAWIT)


@dataclass(frozen=True)
class Validate:
    n: int
    cell: QuotaCell
    desil: int


@dataclass(frozen=True)
class ReleaseOne:
    n: int
    reason: ReleaseReason


@dataclass(frozen=True)
class SetSeats:
    cell: QuotaCell
    seats: int


@dataclass(frozen=True)
class Move:
    source: QuotaCell
    target: QuotaCell
    seats: int


@dataclass(frozen=True)
class SetBudget:
    affordable: int


@dataclass(frozen=True)
class FixDecree:
    n: int


Command = Validate | ReleaseOne | SetSeats | Move | SetBudget | FixDecree

cells = st.sampled_from(CELLS)
validates = st.builds(Validate, st.integers(0, 25), cells, st.integers(1, 2))
releases = st.builds(ReleaseOne, st.integers(0, 25), st.sampled_from(ReleaseReason))
raises_only = st.one_of(validates, releases, st.builds(SetSeats, cells, st.integers(0, 6)))
any_command = st.one_of(
    validates,
    validates,
    releases,
    st.builds(SetSeats, cells, st.integers(0, 6)),
    st.builds(Move, cells, cells, st.integers(1, 3)),
    st.builds(SetBudget, st.integers(0, 12)),
    st.builds(FixDecree, st.integers(0, 2)),
)
seat_maps = st.fixed_dictionaries({cell: st.integers(0, 5) for cell in CELLS})


def decide(state: QuotaState, command: Command, seq: int) -> Decision:
    """The decision for `command`, or () when the command is one the rules refuse."""
    match command:
        case Validate(n, cell, desil):
            return decide_validated(state, worker(n, cell, desil, seq=seq))
        case ReleaseOne(n, reason):
            return decide_release(state, f"w{n:04d}", reason)
        case SetSeats(cell, seats):
            return decide_seats(state, cell, seats)
        case Move(source, target, seats):
            if source == target or state.seats.get(source, 0) < seats:
                return ()
            return decide_move(state, source, target, seats)
        case SetBudget(affordable):
            return decide_budget(state, affordable * COST)
        case FixDecree(n):
            return decide_decree_fixed(state, f"SK-{n}")
    raise AssertionError(command)


def check_before_apply(state: QuotaState, event: QuotaEvent) -> None:
    """A seat is given only when free and paid for, and only to the first eligible waiter."""
    if not isinstance(event, Assign):
        return
    assert state.free_seats(event.cell) > 0
    assert state.budget_left > 0
    if event.promoted:
        ahead = state.waitlist[: state.waitlist.index(state.waiting[event.worker_id])]
        assert all(state.free_seats(entry.cell) <= 0 for entry in ahead)


def check_state(state: QuotaState) -> None:
    ranks = [(e.decree_round, e.desil, e.nomination_seq, e.worker_id) for e in state.waitlist]
    assert ranks == sorted(ranks)
    assert set(state.waiting) == {e.worker_id for e in state.waitlist}
    assert not set(state.waiting) & set(state.assigned)
    assert sum(state.assigned_per_cell.values()) == len(state.assigned)
    assert promotions_due(state) == ()  # nobody waits who could be seated


def run(state: QuotaState, commands: list[Command]) -> list[QuotaEvent]:
    log: list[QuotaEvent] = []
    for seq, command in enumerate(commands):
        before = state.copy()
        decision = decide(state, command, seq)
        assert state == before  # deciding is pure
        for event in decision:
            check_before_apply(state, event)
            state.apply(event)
        check_state(state)
        log.extend(decision)
    return log


@settings(max_examples=150, deadline=None)
@given(seat_maps, st.integers(0, 12), st.lists(any_command, max_size=60))
def test_rules_hold_for_any_sequence(
    seats: dict[QuotaCell, int], affordable: int, commands: list[Command]
) -> None:
    state = opened(seats, affordable)
    start = state.copy()

    log = run(state, commands)

    rebuilt = start.copy()
    for event in log:
        rebuilt.apply(event)
    assert rebuilt == state


@settings(max_examples=150, deadline=None)
@given(seat_maps, st.integers(0, 12), st.lists(raises_only, max_size=60))
def test_without_cuts_seats_and_budget_are_never_exceeded(
    seats: dict[QuotaCell, int], affordable: int, commands: list[Command]
) -> None:
    state = opened(seats, affordable)
    for seq, command in enumerate(commands):
        is_cut = isinstance(command, SetSeats) and command.seats < state.seats.get(command.cell, 0)
        if is_cut:
            continue
        for event in decide(state, command, seq):
            state.apply(event)
        for cell in CELLS:
            assert state.assigned_per_cell.get(cell, 0) <= state.seats.get(cell, 0)
        assert len(state.assigned) <= state.affordable_workers


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 2), st.integers(0, 1_000)), min_size=1, max_size=30),
    st.integers(0, 30),
)
def test_a_raise_promotes_in_desil_then_nomination_order(
    arrivals: list[tuple[int, int]], raise_to: int
) -> None:
    state = opened({MEDAN_SAWIT: 0}, affordable=100)
    for n, (desil, seq) in enumerate(arrivals):
        for event in decide_validated(state, worker(n, desil=desil, seq=seq)):
            assert isinstance(event, Waitlist)
            state.apply(event)

    promoted = [e.worker_id for e in decide_seats(state, MEDAN_SAWIT, raise_to) if isinstance(e, Assign)]

    expected = sorted(range(len(arrivals)), key=lambda n: (*arrivals[n], f"w{n:04d}"))
    assert promoted == [f"w{n:04d}" for n in expected[:raise_to]]
