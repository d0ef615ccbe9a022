"""Decisions of a programme's quota, as events; applying them in order rebuilds the quota state.

They are plain frozen dataclasses; the allocation service maps them to its wire contracts
(QuotaAssigned, QuotaWaitlisted, QuotaReleased) and stores them in its event store.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.allocation.domain.sector import QuotaCell, Sector


class WaitlistReason(StrEnum):
    """Why a validated worker waits instead of getting a seat."""

    NO_SEAT = "no_seat"  # the regency × sector cell is full (or has no seats)
    NO_BUDGET = "no_budget"  # the cap pays for no more workers


class ReleaseReason(StrEnum):
    """Why a worker leaves a programme's quota (assigned or waitlisted)."""

    WITHDRAWN = "withdrawn"
    DIED = "died"
    ENROLLMENT_FAILED = "enrollment_failed"
    HELD_BY_OTHER_PROGRAMME = "held_by_other_programme"  # see cross_programme.py


@dataclass(frozen=True, slots=True)
class QuotasOpened:
    """A programme's quota was opened with its seats per cell and its budget."""

    programme_code: str
    seats: tuple[tuple[QuotaCell, int], ...]
    budget_cap: int
    cost_per_worker: int


@dataclass(frozen=True, slots=True)
class Assign:
    """A worker got a seat; `promoted` when the seat came from the waitlist."""

    worker_id: str
    regency: str
    sector: Sector
    promoted: bool = False

    @property
    def cell(self) -> QuotaCell:
        """The regency × sector seat taken."""
        return QuotaCell(self.regency, self.sector)


@dataclass(frozen=True, slots=True)
class Waitlist:
    """A worker waits for a seat.

    `position` is 1-based and true when decided; later entries ranked ahead (a lower desil) move
    it back. The ranking fields (`decree_round`, `desil`, `nomination_seq`) are kept so that
    replay rebuilds the order; `decree_round` counts the decrees fixed before this entry.
    """

    worker_id: str
    regency: str
    sector: Sector
    desil: int
    nomination_seq: int
    decree_round: int
    position: int
    reason: WaitlistReason

    @property
    def cell(self) -> QuotaCell:
        """The regency × sector seat waited for."""
        return QuotaCell(self.regency, self.sector)


@dataclass(frozen=True, slots=True)
class Release:
    """A worker left the quota: an assigned worker frees a seat, a waitlisted one their place."""

    worker_id: str
    reason: ReleaseReason


@dataclass(frozen=True, slots=True)
class SeatsChanged:
    """A cell's seats were set (raised, cut, or one side of a move).

    `over_assigned` records how many assigned workers the new number leaves without a seat: a cut
    never unassigns anyone (see quota.py), it only stops assignment in that cell.
    """

    regency: str
    sector: Sector
    seats: int
    over_assigned: int

    @property
    def cell(self) -> QuotaCell:
        """The regency × sector whose seats changed."""
        return QuotaCell(self.regency, self.sector)


@dataclass(frozen=True, slots=True)
class BudgetChanged:
    """The cap changed (e.g. APBD-P revision); `over_committed` workers are beyond the new cap."""

    budget_cap: int
    over_committed: int


@dataclass(frozen=True, slots=True)
class DecreeFixed:
    """A decree (SK, first or perubahan) fixed the list: the waitlist order it published holds, so
    later entries rank after those already waiting."""

    decree_number: str


QuotaEvent = QuotasOpened | Assign | Waitlist | Release | SeatsChanged | BudgetChanged | DecreeFixed
"""Every event the quota state applies."""
