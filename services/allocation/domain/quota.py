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
from dataclasses import dataclass, field

from services.allocation.domain.budget import BudgetPosition
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
from services.allocation.domain.sector import QuotaCell, Sector

Decision = tuple[QuotaEvent, ...]
"""Events decided by one command, to be stored and applied in this order."""

_Rank = tuple[int, int, int, str]
_SeatRank = tuple[int, int, str]  # desil, nomination_seq, worker_id: the last gives way first

_NOBODY: Mapping[str, str] = {}


class QuotaError(ValueError):
    """A command or an event that the quota state cannot take."""


@dataclass(frozen=True, slots=True)
class ValidatedWorker:
    """A worker validated by the registry, as the quota needs them.

    `nomination_seq` increases with nomination time (a sequence number or a timestamp in
    microseconds): it orders workers of the same desil on the waitlist.
    """

    worker_id: str
    regency: str
    sector: Sector
    desil: int
    nomination_seq: int
    desa_code: str | None = None  # official desa code, counted against the programme's village_cap

    def __post_init__(self) -> None:
        if not self.worker_id:
            raise ValueError("worker_id is empty")
        if self.desil < 1:
            raise ValueError(f"desil must be >= 1, got {self.desil}")
        if self.nomination_seq < 0:
            raise ValueError(f"nomination_seq must be >= 0, got {self.nomination_seq}")

    @property
    def cell(self) -> QuotaCell:
        """The regency × sector seat this worker competes for."""
        return QuotaCell(self.regency, self.sector)


def _rank(entry: Waitlist) -> _Rank:
    return (entry.decree_round, entry.desil, entry.nomination_seq, entry.worker_id)


@dataclass
class QuotaState:
    """Seats, assigned workers and waitlist of one programme, as left by the events applied.

    Change it only through `apply`; read it freely.
    """

    programme_code: str = ""
    seats: dict[QuotaCell, int] = field(default_factory=dict)
    budget_cap: int = 0
    cost_per_worker: int = 1
    requires_decree: bool = True
    village_cap: int | None = None
    assigned: dict[str, QuotaCell] = field(default_factory=dict)
    assigned_per_cell: dict[QuotaCell, int] = field(default_factory=dict)
    assigned_village: dict[str, str] = field(default_factory=dict)  # seated worker -> desa code
    assigned_per_village: dict[str, int] = field(default_factory=dict)
    # Seated workers whose rank is known, per cell, in rank order (the last gives way first).
    ranked_seats: dict[QuotaCell, list[_SeatRank]] = field(default_factory=dict)
    waitlist: list[Waitlist] = field(default_factory=list)  # in waitlist order
    waiting: dict[str, Waitlist] = field(default_factory=dict)
    decrees: list[str] = field(default_factory=list)
    version: int = 0

    @classmethod
    def rebuild(cls, events: Iterable[QuotaEvent]) -> QuotaState:
        """The state left by applying `events` in order to an empty state."""
        state = cls()
        for event in events:
            state.apply(event)
        return state

    def copy(self) -> QuotaState:
        """An independent copy (events are immutable, so containers are copied one level)."""
        return QuotaState(
            programme_code=self.programme_code,
            seats=dict(self.seats),
            budget_cap=self.budget_cap,
            cost_per_worker=self.cost_per_worker,
            requires_decree=self.requires_decree,
            village_cap=self.village_cap,
            assigned=dict(self.assigned),
            assigned_per_cell=dict(self.assigned_per_cell),
            assigned_village=dict(self.assigned_village),
            assigned_per_village=dict(self.assigned_per_village),
            ranked_seats={cell: list(ranks) for cell, ranks in self.ranked_seats.items()},
            waitlist=list(self.waitlist),
            waiting=dict(self.waiting),
            decrees=list(self.decrees),
            version=self.version,
        )

    # --- applying events -----------------------------------------------------------------------

    def apply(self, event: QuotaEvent) -> None:
        """Apply one decided event. Raises `QuotaError` on an event that contradicts the state
        (a corrupt or misordered stream), rather than rebuilding a wrong state quietly."""
        if isinstance(event, QuotasOpened):
            self._open(event)
        elif not self.programme_code:
            raise QuotaError(f"{type(event).__name__} before QuotasOpened")
        elif isinstance(event, Assign):
            self._assign(event)
        elif isinstance(event, Waitlist):
            self._waitlist(event)
        elif isinstance(event, Release):
            self._release(event)
        elif isinstance(event, Unseat):
            self._unseat(event)
        elif isinstance(event, Decline):
            if event.worker_id in self.assigned or event.worker_id in self.waiting:
                raise QuotaError(f"worker {event.worker_id} is in the quota and cannot be declined")
        elif isinstance(event, SeatsChanged):
            self.seats[event.cell] = event.seats
        elif isinstance(event, BudgetChanged):
            self.budget_cap = event.budget_cap
        elif event.decree_number in self.decrees:
            raise QuotaError(f"decree {event.decree_number} is already fixed")
        else:
            self.decrees.append(event.decree_number)
        self.version += 1

    def _open(self, event: QuotasOpened) -> None:
        if self.programme_code:
            raise QuotaError(f"quota of {self.programme_code} is already open")
        self.programme_code = event.programme_code
        self.seats = dict(event.seats)
        self.budget_cap = event.budget_cap
        self.cost_per_worker = event.cost_per_worker
        self.requires_decree = event.requires_decree
        self.village_cap = event.village_cap

    def _assign(self, event: Assign) -> None:
        if event.worker_id in self.assigned:
            raise QuotaError(f"worker {event.worker_id} is already assigned")
        self._drop_from_waitlist(event.worker_id)
        self.assigned[event.worker_id] = event.cell
        self.assigned_per_cell[event.cell] = self.assigned_per_cell.get(event.cell, 0) + 1
        if event.desa_code is not None:
            self.assigned_village[event.worker_id] = event.desa_code
            self.assigned_per_village[event.desa_code] = self.assigned_per_village.get(event.desa_code, 0) + 1
        if event.desil is not None and event.nomination_seq is not None:
            ranks = self.ranked_seats.setdefault(event.cell, [])
            bisect.insort(ranks, (event.desil, event.nomination_seq, event.worker_id))

    def _waitlist(self, event: Waitlist) -> None:
        if event.worker_id in self.assigned or event.worker_id in self.waiting:
            raise QuotaError(f"worker {event.worker_id} is already in the quota")
        bisect.insort(self.waitlist, event, key=_rank)
        self.waiting[event.worker_id] = event

    def _release(self, event: Release) -> None:
        if event.worker_id in self.assigned:
            self._unassign(event.worker_id)
        elif not self._drop_from_waitlist(event.worker_id):
            raise QuotaError(f"worker {event.worker_id} is neither assigned nor waiting")

    def _unseat(self, event: Unseat) -> None:
        if self.assigned.get(event.worker_id) != event.cell:
            raise QuotaError(f"worker {event.worker_id} holds no seat in {event.regency} {event.sector}")
        self._unassign(event.worker_id)
        self._waitlist(event.as_waitlisted())

    def _unassign(self, worker_id: str) -> None:
        cell = self.assigned.pop(worker_id)
        self.assigned_per_cell[cell] -= 1
        desa = self.assigned_village.pop(worker_id, None)
        if desa is not None:
            self.assigned_per_village[desa] -= 1
        ranks = self.ranked_seats.get(cell, [])
        for i, rank in enumerate(ranks):
            if rank[2] == worker_id:
                del ranks[i]
                break

    def _drop_from_waitlist(self, worker_id: str) -> bool:
        entry = self.waiting.pop(worker_id, None)
        if entry is None:
            return False
        del self.waitlist[bisect.bisect_left(self.waitlist, _rank(entry), key=_rank)]
        return True

    # --- reading -------------------------------------------------------------------------------

    @property
    def affordable_workers(self) -> int:
        """Workers the current cap pays for."""
        return self.budget_cap // self.cost_per_worker

    @property
    def budget_left(self) -> int:
        """Workers the cap still pays for (negative when over-committed after a cut)."""
        return self.affordable_workers - len(self.assigned)

    def budget(self) -> BudgetPosition:
        """Budget position: the cap against current seats and assigned workers."""
        return BudgetPosition(
            cap=self.budget_cap,
            cost_per_worker=self.cost_per_worker,
            seats_total=sum(self.seats.values()),
            committed_workers=len(self.assigned),
        )

    def free_seats(self, cell: QuotaCell) -> int:
        """Seats of `cell` nobody holds (negative when over-assigned after a cut)."""
        return self.seats.get(cell, 0) - self.assigned_per_cell.get(cell, 0)

    def over_assigned(self, cell: QuotaCell) -> int:
        """Workers assigned in `cell` beyond its seats, left by a cut."""
        return max(0, -self.free_seats(cell))

    @property
    def decree_round(self) -> int:
        """How many decrees have fixed the list so far."""
        return len(self.decrees)

    @property
    def provisional(self) -> bool:
        """True while seats may still give way to a poorer desil: a decree is required and none
        has been issued yet."""
        return self.requires_decree and not self.decrees

    def position(self, worker_id: str) -> int | None:
        """1-based waitlist position of a waiting worker, or None."""
        entry = self.waiting.get(worker_id)
        if entry is None:
            return None
        return bisect.bisect_left(self.waitlist, _rank(entry), key=_rank) + 1

    def village_full(self, desa_code: str | None) -> bool:
        """True when the programme caps seats per village and `desa_code` has them all taken."""
        if self.village_cap is None or desa_code is None:
            return False
        return self.assigned_per_village.get(desa_code, 0) >= self.village_cap

    def gives_way_to(self, worker: ValidatedWorker, *, same_village: bool = False) -> _SeatRank | None:
        """The seated worker of `worker`'s cell who would give way to them, or None.

        Only while seats are provisional, and only a worker ranking strictly after them (a worse
        desil, or the same desil nominated later): the one who would rank last on the waitlist.
        `same_village`: only a worker of `worker`'s desa (their village is full).
        """
        if not self.provisional:
            return None
        mine = (worker.desil, worker.nomination_seq, worker.worker_id)
        for rank in reversed(self.ranked_seats.get(worker.cell, ())):
            if rank <= mine:
                return None
            if not same_village or self.assigned_village.get(rank[2]) == worker.desa_code:
                return rank
        return None


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
            position=bisect.bisect_left(state.waitlist, rank, key=_rank) + 1,
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
        position=bisect.bisect_left(state.waitlist, rank, key=_rank) + 1,
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
