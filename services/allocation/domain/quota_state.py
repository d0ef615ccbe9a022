"""The quota state of one programme: seats, seated workers and the waitlist, as left by the
decided events applied in order (the rules that decide them are in quota.py)."""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.allocation.domain.budget import BudgetPosition
from services.allocation.domain.quota_events import (
    Assign,
    BudgetChanged,
    Decline,
    QuotaEvent,
    QuotasOpened,
    Release,
    SeatsChanged,
    Unseat,
    Waitlist,
)
from services.allocation.domain.sector import QuotaCell, Sector

Rank = tuple[int, int, int, str]
"""A waitlist entry's rank: decree round, desil, nomination order, worker id."""
SeatRank = tuple[int, int, str]  # desil, nomination_seq, worker_id: the last gives way first


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


def waitlist_rank(entry: Waitlist) -> Rank:
    """Where `entry` stands on the waitlist (lower first)."""
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
    # Seated workers whose rank is known, per cell, in rank order (the last gives way first);
    # kept only while seats are provisional, the only time a seat gives way (`gives_way_to`).
    ranked_seats: dict[QuotaCell, list[SeatRank]] = field(default_factory=dict)
    waitlist: list[Waitlist] = field(default_factory=list)  # in waitlist order
    waiting: dict[str, Waitlist] = field(default_factory=dict)
    decrees: list[str] = field(default_factory=list)
    version: int = 0
    # One instance of each cell, shared by every seat of it (a programme seats tens of thousands).
    cells: dict[QuotaCell, QuotaCell] = field(default_factory=dict, repr=False, compare=False)

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
            cells=dict(self.cells),
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
            self.ranked_seats.clear()  # no longer provisional: no seat gives way again
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
        cell = self.cells.setdefault(event.cell, event.cell)
        self.assigned[event.worker_id] = cell
        self.assigned_per_cell[cell] = self.assigned_per_cell.get(cell, 0) + 1
        if event.desa_code is not None:
            desa = sys.intern(event.desa_code)
            self.assigned_village[event.worker_id] = desa
            self.assigned_per_village[desa] = self.assigned_per_village.get(desa, 0) + 1
        if self.provisional and event.desil is not None and event.nomination_seq is not None:
            ranks = self.ranked_seats.setdefault(cell, [])
            bisect.insort(ranks, (event.desil, event.nomination_seq, event.worker_id))

    def _waitlist(self, event: Waitlist) -> None:
        if event.worker_id in self.assigned or event.worker_id in self.waiting:
            raise QuotaError(f"worker {event.worker_id} is already in the quota")
        bisect.insort(self.waitlist, event, key=waitlist_rank)
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
        del self.waitlist[bisect.bisect_left(self.waitlist, waitlist_rank(entry), key=waitlist_rank)]
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
        return bisect.bisect_left(self.waitlist, waitlist_rank(entry), key=waitlist_rank) + 1

    def village_full(self, desa_code: str | None) -> bool:
        """True when the programme caps seats per village and `desa_code` has them all taken."""
        if self.village_cap is None or desa_code is None:
            return False
        return self.assigned_per_village.get(desa_code, 0) >= self.village_cap

    def gives_way_to(self, worker: ValidatedWorker, *, same_village: bool = False) -> SeatRank | None:
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
