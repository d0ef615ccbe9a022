"""Was the worker covered on the incident day? Judged from enrollment's coverage facts.

The facts of one worker under one programme (`ProgrammeCoverage`) come from enrollment's events:
EnrolledAtBPJS (KPJ, the programme's period, the day BPJS registered the worker), PremiumPaid
(a paid month covers that calendar month), CoverageRestored (arrears paid: the month is paid),
CoverageLapsed (the last covered day and the first unpaid month), CoverageEnded (the programme
stopped paying: released, died, removed...) and MembershipEnded (BPJS ended the BPU membership).

A day is covered, under one programme, when all of these hold (checked in this order, the first
that fails names the reason):

1. it falls within the programme's period (`coverage_start..coverage_end`);
2. it is on or after the day BPJS registered the worker (`enrolled_on`): no KPJ, no cover;
3. no end is in force: a CoverageEnded or MembershipEnded whose `ended_on` is before the day,
   unless BPJS registered the worker again after that end and on or before the day;
4. the day's calendar month is paid (PremiumPaid or CoverageRestored), whenever it was paid.

A day in an unpaid month is IN_LAPSE when enrollment recorded a lapse that reaches it (lapsed
before the day, first unpaid month at or before the day's month, no paid month between), else
MONTH_NOT_PAID. Claims apply no grace months: enrollment's default is none (DOMAIN.md: "not
covered until paid").

Enrollment answers `GET /coverage` with its own copy of these rules
(services/enrollment/domain/coverage.py); a service never imports another, so claims keep theirs
here. docs/claims.md says where the two differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from libs.events.contracts.coverage import CoverageReason
from libs.events.contracts.enrollment import (
    CoverageEnded,
    CoverageLapsed,
    CoverageRestored,
    EnrolledAtBPJS,
    MembershipEnded,
    PremiumPaid,
)
from libs.months import month_of

# Enrollment's events that carry the coverage facts (what the claims service consumes of them).
COVERAGE_EVENTS = (
    EnrolledAtBPJS,
    PremiumPaid,
    CoverageRestored,
    CoverageLapsed,
    CoverageEnded,
    MembershipEnded,
)


@dataclass(frozen=True, slots=True)
class Lapse:
    """CoverageLapsed: `lapsed_on` is the last covered day, `month_unpaid` the first unpaid month."""

    month_unpaid: str
    lapsed_on: date


@dataclass(frozen=True, slots=True)
class CoverageEnd:
    """CoverageEnded (`membership` False; `reason` the release reason) or MembershipEnded."""

    ended_on: date
    membership: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ProgrammeCoverage:
    """The coverage facts of one worker under one programme."""

    worker_id: str
    programme_code: str
    kpj: str
    regency_code: str
    coverage_start: date
    coverage_end: date
    enrolled_on: tuple[date, ...]
    paid_months: frozenset[str] = frozenset()
    lapses: tuple[Lapse, ...] = ()
    ends: tuple[CoverageEnd, ...] = ()

    def __post_init__(self) -> None:
        if not self.enrolled_on:
            raise ValueError(f"{self.worker_id}:{self.programme_code}: no registration day")

    @property
    def first_enrolled_on(self) -> date:
        return min(self.enrolled_on)

    def in_window(self, day: date) -> bool:
        return self.coverage_start <= day <= self.coverage_end

    def end_in_force(self, day: date) -> CoverageEnd | None:
        """The end that stops cover on `day`: the earliest one before it that no later
        registration (on or before `day`) undid; a membership end before a programme's own end
        of the same day, as the more specific reason."""
        in_force = [
            end
            for end in self.ends
            if end.ended_on < day and not any(end.ended_on < r <= day for r in self.enrolled_on)
        ]
        return min(in_force, key=lambda e: (e.ended_on, not e.membership), default=None)

    def lapse_reaching(self, day: date) -> Lapse | None:
        """The recorded lapse `day` falls in (its month being unpaid), if any."""
        month = month_of(day)
        for lapse in sorted(self.lapses, key=lambda lp: lp.month_unpaid, reverse=True):
            if lapse.lapsed_on >= day or lapse.month_unpaid > month:
                continue
            if any(lapse.month_unpaid <= paid < month for paid in self.paid_months):
                return None  # paid again since that lapse: this is a new unpaid stretch
            return lapse
        return None

    def reason_on(self, day: date) -> CoverageReason:
        """Why `day` is, or is not, covered under this programme (module doc, in order)."""
        if day < self.coverage_start:
            return CoverageReason.BEFORE_COVERAGE_START
        if day > self.coverage_end:
            return CoverageReason.AFTER_COVERAGE_END
        if day < self.first_enrolled_on:
            return CoverageReason.BEFORE_ENROLLMENT
        end = self.end_in_force(day)
        if end is not None:
            return CoverageReason.MEMBERSHIP_ENDED if end.membership else CoverageReason.COVERAGE_ENDED
        if month_of(day) in self.paid_months:
            return CoverageReason.COVERED
        if self.lapse_reaching(day) is not None:
            return CoverageReason.IN_LAPSE
        return CoverageReason.MONTH_NOT_PAID

    def explain(self, day: date, reason: CoverageReason) -> str:
        """The specifics of `reason` on `day`, for officers (Indonesian)."""
        on = day.isoformat()
        programme = self.programme_code
        if reason is CoverageReason.BEFORE_ENROLLMENT:
            registered = self.first_enrolled_on.isoformat()
            return f"Kejadian {on} sebelum peserta terdaftar di BPJS ({registered}), program {programme}."
        if reason in (CoverageReason.COVERAGE_ENDED, CoverageReason.MEMBERSHIP_ENDED):
            end = self.end_in_force(day)
            assert end is not None
            what = "kepesertaan BPU berakhir" if end.membership else f"perlindungan berakhir ({end.reason})"
            return f"Kejadian {on} setelah {what} pada {end.ended_on.isoformat()}, program {programme}."
        if reason is CoverageReason.IN_LAPSE:
            lapse = self.lapse_reaching(day)
            assert lapse is not None
            return (
                f"Kejadian {on} dalam masa tidak aktif sejak {lapse.lapsed_on.isoformat()} "
                f"(iuran {lapse.month_unpaid} belum dibayar), program {programme}."
            )
        if reason is CoverageReason.MONTH_NOT_PAID:
            return f"Iuran bulan {month_of(day)} belum dibayar saat klaim dicatat, program {programme}."
        return f"Kejadian {on}: tidak terlindungi ({reason}), program {programme}."


@dataclass(frozen=True, slots=True)
class CoverageFinding:
    """The verdict on an incident day, and the programme the claim belongs to (the covering one,
    else the one that explains why not; None when the worker is nobody we pay for)."""

    reason: CoverageReason
    programme: ProgrammeCoverage | None

    @property
    def covered(self) -> bool:
        return self.reason is CoverageReason.COVERED


def judge_incident(programmes: Sequence[ProgrammeCoverage], kpj: str, day: date) -> CoverageFinding:
    """Judge `day` against every programme found for the claim (by its KPJ or its worker id).

    Covered under any programme is covered. Otherwise the claim's own KPJ first, then the
    earliest programme: a programme whose period holds the day explains why not (the reason
    from enrollment's facts); when no period holds it, the reason is where the day falls among
    the periods (before them all, after them all, or between two)."""
    if not programmes:
        return CoverageFinding(CoverageReason.NOT_ENROLLED, None)
    ordered = sorted(programmes, key=lambda p: (p.kpj != kpj, p.coverage_start, p.programme_code))
    judged = [(p, p.reason_on(day)) for p in ordered]
    for p, reason in judged:
        if reason is CoverageReason.COVERED:
            return CoverageFinding(reason, p)
    for p, reason in judged:
        if p.in_window(day):
            return CoverageFinding(reason, p)
    before = [p for p in ordered if p.coverage_end < day]
    if not before:
        return CoverageFinding(CoverageReason.BEFORE_COVERAGE_START, ordered[0])
    nearest = max(before, key=lambda p: p.coverage_end)
    if len(before) == len(ordered):
        return CoverageFinding(CoverageReason.AFTER_COVERAGE_END, nearest)
    return CoverageFinding(CoverageReason.BETWEEN_COVERAGE_PERIODS, nearest)


def membership_start(programmes: Sequence[ProgrammeCoverage]) -> date | None:
    """The earliest day BPJS registered the worker under any programme we know (None: none)."""
    return min((p.first_enrolled_on for p in programmes), default=None)
