"""Coverage: on which days a worker enrolled under a programme is protected by BPJS.

A `CoverageLedger` holds the facts of one (worker, programme) and answers from them alone.
DOMAIN.md leaves the details open; these are the rules chosen, each for a reason:

Window
    Coverage can only fall between *start* and the programme's `coverage_end` (the last day of
    its last month). Start is the later of the programme's `coverage_start` and the day BPJS
    enrolled the worker, not the first day of the enrollment month: no KPJ exists before
    enrollment, BPJS would not honour an incident before it, and back-dating would let such
    claims pass unflagged. The enrollment month's premium is still due in full (BPJS bills
    whole months).
Paid months
    A month whose premium is paid is covered in full (within the window), whenever it was paid.
    So paying a missed month restores coverage from that month's first day: if it is the lapsed
    month, coverage is continuous again; unpaid months left in between stay a gap.
Grace
    `CoveragePolicy.grace_months` unpaid months right after a paid month are still covered; then
    coverage ends on the last day of the last grace month (grace 0: the last day of the last paid
    month). Grace extends coverage that exists: unpaid months at the very start of the window are
    not covered, as BPU coverage begins with the first premium.
Recorded lapses
    Once a lapse is recorded, its end date stands even if the grace setting changes later; only
    payments move it. A change of configuration must not rewrite history.
End
    A release (withdrawn, died, removed by decree, held by another programme) or the end of the
    BPU membership records `CoverageEnd`: no day after its `ended_on` is covered under this
    programme (COVERAGE_ENDED, MEMBERSHIP_ENDED), and no month after the one containing it is due.
Membership (BPU arrears)
    Up to `CoveragePolicy.arrears_months` consecutive unpaid months may still be paid and restore
    coverage; one more unpaid month (a month counts once it has fallen due: premiums are paid in
    advance, so a month not yet begun is never unpaid) ends the membership
    (`membership_end_to_record`). A new registration is then needed.
Knowledge time
    Queries take `known_at`: only facts dated on or before it count (`enrolled_on`, `paid_on`,
    `recorded_on`). Ask `is_covered(incident, policy, known_at=incident)` to apply the BPJS rule
    that an incident during a lapse is not covered even when the arrears are paid afterwards; ask
    without `known_at` for today's view of the same days (billing, reports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import TypeVar

from libs.events.contracts.coverage import CoverageReason as CoverageReason
from services.enrollment.domain.coverage_window import CoveredPeriod as CoveredPeriod
from services.enrollment.domain.coverage_window import Snapshot
from services.enrollment.domain.months import YearMonth

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CoveragePolicy:
    """How long unpaid months stay covered. Configuration, never hard-coded."""

    grace_months: int
    # Consecutive unpaid months BPJS accepts in arrears; one more ends the BPU membership.
    arrears_months: int = 3

    def __post_init__(self) -> None:
        if self.grace_months < 0:
            raise ValueError(f"grace_months must be >= 0, got {self.grace_months}")
        if self.arrears_months < 0:
            raise ValueError(f"arrears_months must be >= 0, got {self.arrears_months}")


@dataclass(frozen=True, slots=True)
class Enrollment:
    """Fact: BPJS enrolled the worker on `enrolled_on` for the programme's coverage period."""

    enrolled_on: date
    coverage_start: date
    coverage_end: date

    def __post_init__(self) -> None:
        if self.coverage_end < self.coverage_start:
            raise ValueError(f"coverage ends ({self.coverage_end}) before it starts ({self.coverage_start})")


@dataclass(frozen=True, slots=True)
class PremiumPayment:
    """Fact: the premium for `month` was paid on `paid_on`."""

    month: YearMonth
    paid_on: date


@dataclass(frozen=True, slots=True)
class Lapse:
    """Fact: coverage was recorded as ended on `coverage_ended_on` (the last covered day)
    because `month` (the first unpaid month) went unpaid past grace."""

    month: YearMonth
    coverage_ended_on: date
    recorded_on: date


MEMBERSHIP_ENDED_REASON = "membership_ended"


@dataclass(frozen=True, slots=True)
class CoverageEnd:
    """Fact: the programme stopped covering the worker after `ended_on` (the last covered day),
    for `reason` (a release reason, or `membership_ended`); known from `recorded_on`."""

    ended_on: date
    reason: str
    recorded_on: date

    @property
    def membership(self) -> bool:
        return self.reason == MEMBERSHIP_ENDED_REASON


@dataclass(frozen=True, slots=True)
class MembershipEnd:
    """More consecutive months went unpaid than arrears allow: the months, and the last covered
    day (the day before the window when coverage never began)."""

    months_unpaid: tuple[YearMonth, ...]
    ended_on: date


class Standing(StrEnum):
    """Where a worker stands under a programme today, for officers and the dashboard."""

    AWAITING_PREMIUM = "awaiting_premium"  # enrolled, no premium paid yet
    COVERED = "covered"  # every month due is paid
    IN_ARREARS = "in_arrears"  # a month due is unpaid, but today is still covered (grace, or a gap)
    LAPSED = "lapsed"  # today is not covered; paying the arrears restores it
    MEMBERSHIP_ENDED = "membership_ended"  # too many months unpaid: a new registration is needed
    ENDED = "ended"  # released by the programme (withdrawn, died, ...)


CoverageFact = Enrollment | PremiumPayment | Lapse | CoverageEnd


def last_month_billable(ended_on: date, first: YearMonth, last: YearMonth) -> YearMonth | None:
    """The last month a programme owes for a worker whose coverage ends on `ended_on`, within the
    window `first`..`last`: the month containing the last covered day (premiums are paid ahead,
    so that month is paid in full), never the next; None when coverage ended before the window."""
    month = min(YearMonth.of(ended_on), last)
    return month if month >= first else None


@dataclass(frozen=True, slots=True)
class CoverageAnswer:
    """Whether a day is covered, why, and the unbroken covered period containing it."""

    covered: bool
    reason: CoverageReason
    period: CoveredPeriod | None


class ConflictingEnrollmentError(ValueError):
    """A second, different enrollment fact for the same worker and programme."""


@dataclass(frozen=True, slots=True)
class CoverageLedger:
    """The coverage facts of one worker under one programme. Immutable: `record` returns a copy."""

    enrollment: Enrollment | None = None
    payments: tuple[PremiumPayment, ...] = ()
    lapses: tuple[Lapse, ...] = ()
    end: CoverageEnd | None = None

    @classmethod
    def from_facts(cls, facts: Iterable[CoverageFact]) -> CoverageLedger:
        """Build a ledger from facts in any order; redelivered facts change nothing."""
        ledger = cls()
        for fact in facts:
            ledger = ledger.record(fact)
        return ledger

    def record(self, fact: CoverageFact) -> CoverageLedger:
        """Add one fact. A month paid twice keeps its earliest payment (that is when coverage
        became known); a lapse recorded twice keeps its earliest record. Facts are kept sorted by
        month, so the same facts in any order give equal ledgers."""
        if isinstance(fact, Enrollment):
            if self.enrollment is not None and self.enrollment != fact:
                raise ConflictingEnrollmentError(f"already enrolled as {self.enrollment}")
            return replace(self, enrollment=fact)
        if isinstance(fact, PremiumPayment):
            return replace(self, payments=_with_earliest(self.payments, fact, lambda p: (p.paid_on,)))
        if isinstance(fact, CoverageEnd):
            # The first end recorded stands: a redelivered or later release changes nothing.
            if self.end is not None and (self.end.recorded_on, self.end.ended_on) <= (
                fact.recorded_on,
                fact.ended_on,
            ):
                return self
            return replace(self, end=fact)
        return replace(
            self,
            lapses=_with_earliest(self.lapses, fact, lambda lp: (lp.recorded_on, lp.coverage_ended_on)),
        )

    def is_covered(self, on: date, policy: CoveragePolicy, known_at: date | None = None) -> CoverageAnswer:
        """Whether the worker is covered on day `on`, from the facts known at `known_at`
        (all facts when None). `period` is the unbroken covered period containing `on`."""
        snapshot = self._snapshot(policy, known_at)
        if snapshot is None:
            return CoverageAnswer(False, CoverageReason.NOT_ENROLLED, None)
        ended = snapshot.ended
        if ended is not None and on > ended.ended_on and ended.ended_on < snapshot.window_end:
            reason = CoverageReason.MEMBERSHIP_ENDED if ended.membership else CoverageReason.COVERAGE_ENDED
            return CoverageAnswer(False, reason, None)
        if on > snapshot.end:
            return CoverageAnswer(False, CoverageReason.AFTER_COVERAGE_END, None)
        if on < snapshot.start:
            return CoverageAnswer(False, CoverageReason.BEFORE_COVERAGE_START, None)
        reason = snapshot.reason_on(on)
        if reason is CoverageReason.PREMIUM_UNPAID:
            return CoverageAnswer(False, reason, None)
        period = next(p for p in snapshot.periods() if p[0] <= on <= p[1])
        return CoverageAnswer(True, reason, period)

    def covered_periods(self, policy: CoveragePolicy, known_at: date | None = None) -> list[CoveredPeriod]:
        """The unbroken covered periods, in order, from the facts known at `known_at`."""
        snapshot = self._snapshot(policy, known_at)
        return [] if snapshot is None else snapshot.periods()

    def months_due(self, as_of: date) -> list[YearMonth]:
        """Months of the window whose premium has fallen due by `as_of` (a month falls due on its
        first day in the window, as BPU premiums are paid ahead) and is unpaid as known on `as_of`."""
        # Grace only affects coverage, not what is owed, so any policy gives the same months.
        snapshot = self._snapshot(CoveragePolicy(grace_months=0), as_of)
        if snapshot is None or as_of < snapshot.start:
            return []
        current = YearMonth.of(as_of)
        return [m for m in snapshot.months() if m <= current and m not in snapshot.paid]

    def lapse_check(self, as_of: date, policy: CoveragePolicy) -> date | None:
        """The last covered day, if on `as_of` (or on the last day of the window, once past it)
        coverage has ended because a month went unpaid past grace; None otherwise, including
        when coverage never began (nothing to lapse: see `months_due`)."""
        lapse = self._lapse_in_effect(as_of, policy)
        return None if lapse is None else lapse.coverage_ended_on

    def lapse_to_record(self, as_of: date, policy: CoveragePolicy) -> Lapse | None:
        """The lapse in effect on `as_of` as a fact to record (`recorded_on=as_of`), or None when
        there is none, a lapse for the same unpaid month is already recorded, or coverage ended."""
        if self.end is not None:
            return None
        lapse = self._lapse_in_effect(as_of, policy)
        if lapse is None or any(known.month == lapse.month for known in self.lapses):
            return None
        return lapse

    def membership_end_to_record(self, as_of: date, policy: CoveragePolicy) -> MembershipEnd | None:
        """The end of the BPU membership, if on `as_of` more than `policy.arrears_months`
        consecutive months have fallen due unpaid (up to the current month, or the window's last
        month once past it); None otherwise, or once an end is recorded."""
        if self.end is not None:
            return None
        snapshot = self._snapshot(policy, as_of)
        if snapshot is None or as_of < snapshot.start:
            return None
        last_due = min(YearMonth.of(as_of), YearMonth.of(snapshot.end))
        run: list[YearMonth] = []
        month = last_due
        while month >= snapshot.first_month and month not in snapshot.paid:
            run.append(month)
            month = month.plus(-1)
        if len(run) <= policy.arrears_months:
            return None
        run.reverse()
        until = snapshot.covered_until(run[0])
        return MembershipEnd(tuple(run), until if until is not None else snapshot.start - _ONE_DAY)

    def standing(self, as_of: date, policy: CoveragePolicy) -> Standing | None:
        """Where the worker stands on `as_of` (None: not enrolled)."""
        if self.end is not None and self.end.recorded_on <= as_of:
            return Standing.MEMBERSHIP_ENDED if self.end.membership else Standing.ENDED
        snapshot = self._snapshot(policy, as_of)
        if snapshot is None:
            return None
        if not snapshot.paid:
            return Standing.AWAITING_PREMIUM
        # Months before the first paid one are not arrears: BPU coverage begins with a premium
        # (e.g. the month a promoted worker took a seat already paid for).
        first_paid = min(snapshot.paid)
        if not [m for m in self.months_due(as_of) if m > first_paid]:
            return Standing.COVERED
        day = min(max(as_of, snapshot.start), snapshot.end)
        if self.is_covered(day, policy, known_at=as_of).covered:
            return Standing.IN_ARREARS
        return Standing.LAPSED

    def _lapse_in_effect(self, as_of: date, policy: CoveragePolicy) -> Lapse | None:
        snapshot = self._snapshot(policy, as_of)
        if snapshot is None:
            return None
        # After the window, a lapse of its last month still matters: those days went uncovered.
        day = min(as_of, snapshot.end)
        if day < snapshot.start or snapshot.reason_on(day) is not CoverageReason.PREMIUM_UNPAID:
            return None
        until = snapshot.covered_until(YearMonth.of(day))
        if until is None:
            return None
        first_unpaid = snapshot.run_start(YearMonth.of(day))
        return Lapse(month=first_unpaid, coverage_ended_on=until, recorded_on=as_of)

    def _snapshot(self, policy: CoveragePolicy, known_at: date | None) -> Snapshot | None:
        enrollment = self.enrollment
        if enrollment is None or (known_at is not None and enrollment.enrolled_on > known_at):
            return None

        def known(on: date) -> bool:
            return known_at is None or on <= known_at

        ended = self.end if self.end is not None and known(self.end.recorded_on) else None
        end = enrollment.coverage_end if ended is None else min(enrollment.coverage_end, ended.ended_on)
        return Snapshot(
            start=max(enrollment.coverage_start, enrollment.enrolled_on),
            end=end,
            paid=frozenset(p.month for p in self.payments if known(p.paid_on)),
            recorded_ends={
                lapse.month: lapse.coverage_ended_on for lapse in self.lapses if known(lapse.recorded_on)
            },
            grace_months=policy.grace_months,
            ended=ended,
            window_end=enrollment.coverage_end,
        )


_MonthlyFact = TypeVar("_MonthlyFact", PremiumPayment, Lapse)


def _with_earliest(
    facts: tuple[_MonthlyFact, ...],
    new: _MonthlyFact,
    earliness: Callable[[_MonthlyFact], tuple[date, ...]],
) -> tuple[_MonthlyFact, ...]:
    """`facts` with `new` added, one per month (the earliest), sorted by month: the result does
    not depend on the order in which facts arrive."""
    kept = new
    result: list[_MonthlyFact] = []
    for fact in facts:
        if fact.month != new.month:
            result.append(fact)
        elif earliness(fact) <= earliness(kept):
            kept = fact
    result.append(kept)
    return tuple(sorted(result, key=lambda f: f.month))
