"""Decisions of a programme's quota, as events; applying them in order rebuilds the quota state.

They are plain frozen dataclasses; the allocation service maps them to its wire contracts
(QuotaAssigned, QuotaWaitlisted, QuotaReleased) and stores them in its event store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from services.allocation.domain.sector import QuotaCell, Sector


class WaitlistReason(StrEnum):
    """Why a validated worker waits instead of getting a seat."""

    NO_SEAT = "no_seat"  # the regency × sector cell is full (or has no seats)
    NO_BUDGET = "no_budget"  # the cap pays for no more workers
    VILLAGE_FULL = "village_full"  # the worker's desa already has the programme's village_cap seated


class ReleaseReason(StrEnum):
    """Why a worker leaves a programme's quota (assigned or waitlisted)."""

    WITHDRAWN = "withdrawn"
    DIED = "died"
    ENROLLMENT_FAILED = "enrollment_failed"
    HELD_BY_OTHER_PROGRAMME = "held_by_other_programme"  # see cross_programme.py
    MEMBERSHIP_ENDED = "membership_ended"  # BPJS ended the membership (unpaid months): coverage ended


@dataclass(frozen=True, slots=True)
class QuotasOpened:
    """A programme's quota was opened with its seats per cell and its budget."""

    programme_code: str
    seats: tuple[tuple[QuotaCell, int], ...]
    budget_cap: int
    cost_per_worker: int
    # When the list needs a decree (SK), seats are provisional until the first one: see quota.py.
    requires_decree: bool = True
    # Most seated workers per desa/kelurahan (official code); None: no cap.
    village_cap: int | None = None


@dataclass(frozen=True, slots=True)
class Assign:
    """A worker got a seat; `promoted` when the seat came from the waitlist.

    `desil` and `nomination_seq` are the worker's rank, kept so that replay knows who would give
    way before the decree (see quota.py). They are provenance, not part of the decision's identity:
    two Assigns of the same worker to the same cell compare equal. None: rank unknown (never made
    to give way).
    """

    worker_id: str
    regency: str
    sector: Sector
    promoted: bool = False
    desil: int | None = field(default=None, compare=False)
    nomination_seq: int | None = field(default=None, compare=False)
    # The worker's desa (official code 12.RR.KK.NNNN), counted against the village cap; None: unknown.
    desa_code: str | None = field(default=None, compare=False)

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
    desa_code: str | None = None

    @property
    def cell(self) -> QuotaCell:
        """The regency × sector seat waited for."""
        return QuotaCell(self.regency, self.sector)


@dataclass(frozen=True, slots=True)
class Release:
    """A worker left the quota: an assigned worker frees a seat, a waitlisted one their place.

    `held_by` names the programme that keeps the worker when the reason is
    `HELD_BY_OTHER_PROGRAMME`.
    """

    worker_id: str
    reason: ReleaseReason
    held_by: str | None = None


@dataclass(frozen=True, slots=True)
class Unseat:
    """Before the first decree, a provisionally seated worker gave way to `by_worker_id`, a worker
    of a lower (poorer) desil in the same regency × sector, and now waits at `position`.

    The fields after `sector` are the waitlist entry the worker gets (as in `Waitlist`).
    """

    worker_id: str
    regency: str
    sector: Sector
    desil: int
    nomination_seq: int
    decree_round: int
    position: int
    reason: WaitlistReason
    by_worker_id: str
    desa_code: str | None = None

    @property
    def cell(self) -> QuotaCell:
        """The regency × sector seat given up."""
        return QuotaCell(self.regency, self.sector)

    def as_waitlisted(self) -> Waitlist:
        """The waitlist entry the worker holds after giving way."""
        return Waitlist(
            worker_id=self.worker_id,
            regency=self.regency,
            sector=self.sector,
            desil=self.desil,
            nomination_seq=self.nomination_seq,
            decree_round=self.decree_round,
            position=self.position,
            reason=self.reason,
            desa_code=self.desa_code,
        )


@dataclass(frozen=True, slots=True)
class Decline:
    """A validated worker is not taken into this quota: `held_by`, an overlapping programme whose
    funder proposed them first (or whose list already fixed them), keeps them. See
    cross_programme.py. The quota itself does not change."""

    worker_id: str
    regency: str
    sector: Sector
    held_by: str


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


QuotaEvent = (
    QuotasOpened | Assign | Waitlist | Release | Unseat | Decline | SeatsChanged | BudgetChanged | DecreeFixed
)
"""Every event the quota state applies."""
