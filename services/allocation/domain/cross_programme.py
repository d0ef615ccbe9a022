"""One payer per worker: across programmes, a worker is assigned by at most one programme for
overlapping periods, and it is the programme whose funder proposed (nominated) them first.

Several funders propose the same workers (province APBD, regency APBD, DBH Sawit and its SILPA),
and BPJS must not be paid twice for one person's month. Each allocation decision for a worker
already held elsewhere goes through `check_cross_programme`; every programme applying it to the
same facts reaches the same answer, because holds are ranked by (nominated_at, programme code).

Only a seat holds a worker. A nomination waitlisted, declined or released (withdrawn, died,
enrollment failed, membership ended) holds nobody: the registry's duplicate rule
(services/registry/domain/rules.py, `holds_the_worker`) applies the same notion, so a funder the
registry lets nominate a worker is one allocation lets seat them. A worker seated here who waits
in an overlapping programme leaves that waitlist (`waiting_in`), so it can never seat them too.

A hold is *final* once a decree (SK) has fixed it, or at once in a programme that needs no
decree (its assignments go straight to BPJS registration). A final hold is never displaced,
whoever proposed first: the worker is registered (or about to be) under that funder, and taking
them back would leave months paid by one funder and owed by another. Until then "first proposer
pays" decides among the programmes holding a seat, so an earlier proposal arriving late takes
the worker over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.allocation.domain.period import Period


@dataclass(frozen=True, slots=True)
class ProgrammeHold:
    """A worker's assignment (existing or proposed) in one programme.

    `nominated_at` is when that programme's funder proposed the worker; it must carry a time zone,
    since nominations come from offices and systems that do not share a clock setting. `final`:
    the hold is fixed (decreed, or its programme needs no decree) and is never displaced.
    `waiting`: the worker only waits there (no seat): it holds nothing and keeps nobody out.
    """

    programme_code: str
    period: Period
    nominated_at: datetime
    final: bool = False
    waiting: bool = False

    def __post_init__(self) -> None:
        if self.nominated_at.utcoffset() is None:
            raise ValueError("nominated_at must be timezone-aware")

    @property
    def rank(self) -> tuple[datetime, str]:
        """Earlier nomination first; the programme code settles a tie the same way everywhere."""
        return (self.nominated_at, self.programme_code)


@dataclass(frozen=True, slots=True)
class CrossProgrammeVerdict:
    """Whether the candidate programme may assign the worker.

    When not allowed, `held_by` names the programme that keeps the worker. When allowed,
    `displaces` names the programmes holding the worker for an overlapping period that the
    candidate outranks (nominated later, e.g. a late or out-of-order delivery): they must release
    the worker with `ReleaseReason.HELD_BY_OTHER_PROGRAMME`. `waiting_in` names the overlapping
    programmes where the worker waits: once the candidate seats them they leave those waitlists
    (same reason), so no second programme can seat them later.
    """

    allowed: bool
    held_by: str | None = None
    displaces: tuple[str, ...] = ()
    waiting_in: tuple[str, ...] = ()


def check_cross_programme(
    existing: Iterable[ProgrammeHold], candidate: ProgrammeHold
) -> CrossProgrammeVerdict:
    """Decide whether `candidate` may assign a worker who holds `existing` assignments.

    Holds of the candidate's own programme are ignored (idempotence is the quota's job), as are
    holds whose periods do not overlap the candidate's: a worker may be paid by the province in
    2024 and by their regency in 2025. Waiting elsewhere keeps nobody out. A final overlapping
    seat keeps the worker whatever the ranks; otherwise the earliest proposer holding a seat does.
    """
    overlapping = [
        hold
        for hold in existing
        if hold.programme_code != candidate.programme_code and hold.period.overlaps(candidate.period)
    ]
    rivals = [hold for hold in overlapping if not hold.waiting]
    waiting_in = tuple(sorted(hold.programme_code for hold in overlapping if hold.waiting))
    final = [hold for hold in rivals if hold.final]
    if final:
        return CrossProgrammeVerdict(allowed=False, held_by=min(final, key=_rank).programme_code)
    earlier = [hold for hold in rivals if hold.rank < candidate.rank]
    if earlier:
        return CrossProgrammeVerdict(allowed=False, held_by=min(earlier, key=_rank).programme_code)
    return CrossProgrammeVerdict(
        allowed=True,
        displaces=tuple(sorted(hold.programme_code for hold in rivals)),
        waiting_in=waiting_in,
    )


def _rank(hold: ProgrammeHold) -> tuple[datetime, str]:
    return hold.rank
