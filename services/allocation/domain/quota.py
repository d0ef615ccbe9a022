"""Quota of one programme: who holds a seat, who waits, and the decisions that change that.

Each `decide_*` function is pure: it reads the state and a command and returns the events that
follow (empty when nothing changes); the caller stores them and applies them in order with
`QuotaState.apply`, which is also how the state is rebuilt from the event store.

Rules:

- A validated worker gets a seat when their regency × sector cell has a free seat and the budget
  pays one more worker; otherwise they wait. Assigned workers never exceed affordable workers.
- Waitlist order: decree round, then desil (1 before 2), then nomination order (`nomination_seq`,
  worker id on a tie). Before the first decree everyone waiting is in round 0, so the order is
  desil then nomination. Each decree (SK, also an SK perubahan) publishes the list and its reserve
  order; workers waitlisted after it rank behind everyone already waiting, so a late nomination
  never jumps a published order.
- The order also holds for seats. Until the first decree of a programme that requires one,
  seats are provisional (nobody is registered at BPJS on them, see `requires_decree`): a worker
  who finds no seat (or no budget) takes the seat of the seated worker of the same cell who would
  rank last — the worst desil, then the latest nomination — when that worker ranks strictly after
  them (a worse desil, or the same desil nominated later: a delivery that arrives out of
  nomination order, e.g. from another partition, is put back in order). The worker giving way
  goes back to the waitlist at their rank (`Unseat`), so the first decree lists, in every cell,
  the poorest workers nominated, earliest first. Seats are never taken across cells (the
  regency's quota is its own) nor for budget in another cell, nor while a cut leaves the cell or
  the programme over-assigned (it assigns nobody then, see below), and from the first decree on —
  or at once when no decree is required — a seat is final: later nominations wait.
- Village cap (`village_cap`, Labuhanbatu: 100 per desa): a worker whose desa already has that
  many seated waits (`village_full`); before the decree they may take the seat of a worse-ranked
  worker of the same desa and cell. A seat freed in a capped desa goes to that desa's waiting
  workers first, then to the rest of the waitlist in order.
- Releases, seat changes and budget changes re-flow the waitlist: while the budget lasts, each
  waiting worker in order takes a free seat of their own cell. A budget freed in one cell can so
  go to a worker waiting (for budget) in another.
- One payer per worker (cross_programme.py): the caller says which workers another programme
  holds (`held_by` / `blocked`). Such a validated worker is declined (`Decline`); such a waiting
  worker is released (`HELD_BY_OTHER_PROGRAMME`) when their turn for a seat comes, and the seat
  goes to the next in line.
- A cut below the number assigned (seats or budget) unassigns nobody. Those workers were decided,
  perhaps decreed and registered at BPJS; withdrawing cover mid-year from a poor worker because a
  number changed is not the programme's intent, and BPJS premiums are owed per registered month.
  The cut is recorded (`over_assigned` / `over_committed` in the event) and the cell, or the whole
  programme, assigns nobody until releases bring it back under the new number.
- Idempotent: a worker already assigned or waiting in this programme gets no new decision, and
  releasing a worker who is not there decides nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping

from services.allocation.domain.programme import Programme
from services.allocation.domain.quota_events import (
    Assign,
    BudgetChanged,
    Decline,
    DecreeFixed,
    QuotaEvent,
    QuotasOpened,
    Release,
    ReleaseReason,
    SeatsChanged,
    Unseat,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.quota_state import QuotaError, QuotaState, ValidatedWorker, waitlist_rank
from services.allocation.domain.sector import QuotaCell

__all__ = [
    "Decision",
    "QuotaError",
    "QuotaState",
    "ValidatedWorker",
    "decide_budget",
    "decide_decree_fixed",
    "decide_move",
    "decide_release",
    "decide_seats",
    "decide_validated",
    "open_quotas",
    "promotions_due",
]

Decision = tuple[QuotaEvent, ...]
"""Events decided by one command, to be stored and applied in this order."""

_NOBODY: Mapping[str, str] = {}


# --- decisions ---------------------------------------------------------------------------------


def open_quotas(programme: Programme) -> QuotasOpened:
    """The event that opens a programme's quota with its seats and budget."""
    return QuotasOpened(
        programme_code=programme.code,
        seats=tuple(programme.seats_by_cell().items()),
        budget_cap=programme.budget_cap,
        cost_per_worker=programme.cost_per_worker,
        requires_decree=programme.requires_decree,
        village_cap=programme.village_cap,
    )


def decide_validated(state: QuotaState, worker: ValidatedWorker, held_by: str | None = None) -> Decision:
    """Seat a validated worker, or waitlist them when their cell is full or the budget spent.

    Before the first decree a worker of a poorer desil takes the seat of the last-ranked worker
    of a worse desil in the same cell, who goes back to the waitlist (see the module rules).
    `held_by`: the overlapping programme that keeps this worker (cross_programme.py); the worker
    is then declined.
    """
    _require_open(state)
    if worker.worker_id in state.assigned or worker.worker_id in state.waiting:
        return ()
    if held_by is not None:
        return (Decline(worker.worker_id, worker.regency, worker.sector, held_by),)
    seat = _seat(worker)
    has_seat = state.free_seats(worker.cell) > 0
    village_full = state.village_full(worker.desa_code)
    if has_seat and state.budget_left > 0 and not village_full:
        return (seat,)
    if village_full:
        reason = WaitlistReason.VILLAGE_FULL
    else:
        reason = WaitlistReason.NO_BUDGET if has_seat else WaitlistReason.NO_SEAT
    # A swap keeps the count of seated workers, but after a cut (seats or budget) the cell or the
    # programme assigns nobody until releases bring it back under: no swap either.
    under_cut = state.free_seats(worker.cell) < 0 or state.budget_left < 0
    gives_way = None if under_cut else state.gives_way_to(worker, same_village=village_full)
    if gives_way is not None:
        desil, seq, worker_id = gives_way
        rank = (state.decree_round, desil, seq, worker_id)
        unseat = Unseat(
            worker_id=worker_id,
            regency=worker.regency,
            sector=worker.sector,
            desil=desil,
            nomination_seq=seq,
            decree_round=state.decree_round,
            position=bisect.bisect_left(state.waitlist, rank, key=waitlist_rank) + 1,
            reason=reason,
            by_worker_id=worker.worker_id,
            desa_code=state.assigned_village.get(worker_id),
        )
        return (unseat, seat)
    rank = (state.decree_round, worker.desil, worker.nomination_seq, worker.worker_id)
    entry = Waitlist(
        worker_id=worker.worker_id,
        regency=worker.regency,
        sector=worker.sector,
        desil=worker.desil,
        nomination_seq=worker.nomination_seq,
        decree_round=state.decree_round,
        position=bisect.bisect_left(state.waitlist, rank, key=waitlist_rank) + 1,
        reason=reason,
        desa_code=worker.desa_code,
    )
    return (entry,)


def decide_release(
    state: QuotaState,
    worker_id: str,
    reason: ReleaseReason,
    *,
    held_by: str | None = None,
    blocked: Mapping[str, str] = _NOBODY,
) -> Decision:
    """Release an assigned or waiting worker; a freed seat goes to the waitlist in order (to the
    waiting workers of the freed seat's desa first, when the programme caps seats per village).

    `held_by` names the programme keeping the worker when `reason` is HELD_BY_OTHER_PROGRAMME;
    `blocked` (worker id -> programme) are waiting workers another programme holds.
    """
    _require_open(state)
    if worker_id not in state.assigned and worker_id not in state.waiting:
        return ()
    village = state.assigned_village.get(worker_id) if state.village_cap is not None else None
    return _with_promotions(state, (Release(worker_id, reason, held_by),), blocked, village)


def decide_seats(
    state: QuotaState, cell: QuotaCell, seats: int, blocked: Mapping[str, str] = _NOBODY
) -> Decision:
    """Set a cell's seats (raise or cut); a raise is filled from the waitlist in order."""
    _require_open(state)
    if seats < 0:
        raise QuotaError(f"seats cannot be negative, got {seats}")
    if cell in state.seats and state.seats[cell] == seats:
        return ()
    return _with_promotions(state, (_seats_changed(state, cell, seats),), blocked)


def decide_move(
    state: QuotaState,
    source: QuotaCell,
    target: QuotaCell,
    seats: int,
    blocked: Mapping[str, str] = _NOBODY,
) -> Decision:
    """Move seats from one cell to another (between regencies or sectors)."""
    _require_open(state)
    if seats <= 0:
        raise QuotaError(f"a move needs a positive number of seats, got {seats}")
    if source == target:
        raise QuotaError("a move needs two different cells")
    available = state.seats.get(source, 0)
    if available < seats:
        raise QuotaError(f"{source.regency} {source.sector} has {available} seats, not {seats}")
    changes = (
        _seats_changed(state, source, available - seats),
        _seats_changed(state, target, state.seats.get(target, 0) + seats),
    )
    return _with_promotions(state, changes, blocked)


def decide_budget(state: QuotaState, budget_cap: int, blocked: Mapping[str, str] = _NOBODY) -> Decision:
    """Set a new cap (APBD-P revision); a raise is filled from the waitlist in order."""
    _require_open(state)
    if budget_cap < 0:
        raise QuotaError(f"budget cap cannot be negative, got {budget_cap}")
    if budget_cap == state.budget_cap:
        return ()
    over = max(0, len(state.assigned) - budget_cap // state.cost_per_worker)
    return _with_promotions(state, (BudgetChanged(budget_cap, over),), blocked)


def decide_decree_fixed(state: QuotaState, decree_number: str) -> Decision:
    """Record that a decree fixed the list, so later waitlist entries rank behind."""
    _require_open(state)
    if decree_number in state.decrees:
        return ()
    return (DecreeFixed(decree_number),)


def promotions_due(
    state: QuotaState, blocked: Mapping[str, str] = _NOBODY, first_village: str | None = None
) -> tuple[Assign | Release, ...]:
    """Waiting workers who could take a seat now, in waitlist order (those of `first_village`
    first: a seat freed in a capped desa goes to that desa's waitlist before the rest).

    A worker whose desa is full (village cap) is passed over. A worker in `blocked` (held by
    another programme) whose turn comes is released instead (`HELD_BY_OTHER_PROGRAMME`), and the
    seat goes on to the next in line.

    Every decision leaves this empty; a non-empty answer means the stream was not produced by
    these rules (useful as a consistency check after a rebuild).
    """
    left = state.budget_left
    free: dict[QuotaCell, int] = {}
    taken: dict[str, int] = {}  # seats per capped desa, as this decision leaves them
    cap = state.village_cap
    decided: list[Assign | Release] = []
    order: Iterable[Waitlist] = state.waitlist
    if first_village is not None:
        order = [e for e in state.waitlist if e.desa_code == first_village] + [
            e for e in state.waitlist if e.desa_code != first_village
        ]
    for entry in order:
        if left <= 0:
            break
        seats = free.get(entry.cell, state.free_seats(entry.cell))
        if seats <= 0:
            continue
        desa = entry.desa_code if cap is not None else None
        if cap is not None and desa is not None:
            taken.setdefault(desa, state.assigned_per_village.get(desa, 0))
            if taken[desa] >= cap:
                continue
        holder = blocked.get(entry.worker_id)
        if holder is not None:
            decided.append(Release(entry.worker_id, ReleaseReason.HELD_BY_OTHER_PROGRAMME, holder))
            continue
        decided.append(
            Assign(
                entry.worker_id,
                entry.regency,
                entry.sector,
                promoted=True,
                desil=entry.desil,
                nomination_seq=entry.nomination_seq,
                desa_code=entry.desa_code,
            )
        )
        free[entry.cell] = seats - 1
        left -= 1
        if desa is not None:
            taken[desa] += 1
    return tuple(decided)


def _seat(worker: ValidatedWorker) -> Assign:
    return Assign(
        worker.worker_id,
        worker.regency,
        worker.sector,
        desil=worker.desil,
        nomination_seq=worker.nomination_seq,
        desa_code=worker.desa_code,
    )


def _with_promotions(
    state: QuotaState, decided: Decision, blocked: Mapping[str, str], first_village: str | None = None
) -> Decision:
    after = state.copy()
    for event in decided:
        after.apply(event)
    return decided + promotions_due(after, blocked, first_village)


def _seats_changed(state: QuotaState, cell: QuotaCell, seats: int) -> SeatsChanged:
    over = max(0, state.assigned_per_cell.get(cell, 0) - seats)
    return SeatsChanged(cell.regency, cell.sector, seats, over)


def _require_open(state: QuotaState) -> None:
    if not state.programme_code:
        raise QuotaError("the programme's quota is not open (apply QuotasOpened first)")
