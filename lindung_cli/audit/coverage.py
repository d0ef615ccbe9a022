"""Was a worker covered on a given day? From enrollment's events alone, as known at an instant.

The facts, per programme, read from the events (matched by type name, so newer fields and types
are read where the contracts have them, and older events still answer):

- EnrolledAtBPJS: the window `coverage_start`..`coverage_end` and the day BPJS enrolled the worker
  (`enrolled_on` when the event carries it, else the WIB day the event occurred);
- PremiumPaid: the months paid for the worker (`worker_ids` of a bill line), and when (`paid_on`);
- CoverageLapsed: `lapsed_on`, the last day covered, for `month_unpaid`, recorded on `recorded_on`;
- CoverageRestored: the lapse of `month_paid` no longer stands;
- EnrollmentFailed: no enrollment under that programme (it explains a NOT_ENROLLED answer).

Knowledge time: the caller passes only the events that occurred at or before `known_at`. Asked
with `known_at` = the end of the incident day, this applies BPJS's rule that an incident during a
lapse is not covered even when arrears are paid afterwards.

The rule that turns the facts of one enrollment into an answer is enrollment's own: its domain's
`CoverageLedger` (paid months, grace, lapses), which `ledger_rule` hands the facts read here;
`lindung audit coverage` judges with it. `window_rule` is the auditor's window view (the window,
the enrollment day and the recorded lapses, no premiums): what BPJS registered, whatever was paid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from libs.audit.history import local_day
from libs.events.catalog import decode
from libs.events.contracts.coverage import CoverageReason
from libs.events.envelope import Envelope
from services.enrollment.domain import coverage as ledger
from services.enrollment.domain.months import YearMonth

ENROLLMENT_TYPES = ("EnrolledAtBPJS", "EnrollmentFailed", "CoverageLapsed", "CoverageRestored", "PremiumPaid")


@dataclass(frozen=True)
class Lapse:
    """A recorded lapse: `last_day` covered, `month_unpaid` the first month left unpaid."""

    last_day: date
    month_unpaid: str
    recorded_on: date


@dataclass(frozen=True)
class Payment:
    """The premium of `month` (YYYY-MM) paid for the worker on `paid_on`."""

    month: str
    paid_on: date


@dataclass(frozen=True)
class Enrollment:
    """One enrollment of the worker, with the facts the events tell about it."""

    programme_code: str
    kpj: str
    coverage_start: date
    coverage_end: date
    enrolled_on: date
    payments: tuple[Payment, ...] = field(default=())
    lapses: tuple[Lapse, ...] = field(default=())  # every recorded lapse
    restored: frozenset[str] = frozenset()  # unpaid months of lapses paid after all

    @property
    def first_day(self) -> date:
        """The window's start, not before BPJS registered the worker."""
        return max(self.coverage_start, self.enrolled_on)

    @property
    def lapsed_on(self) -> date | None:
        """The last covered day of the earliest lapse that stands (not restored), if any."""
        standing = [lapse.last_day for lapse in self.lapses if lapse.month_unpaid not in self.restored]
        return min(standing, default=None)

    def in_window(self, day: date) -> bool:
        """Whether `day` falls between the first day and the end of the window."""
        return self.first_day <= day <= self.coverage_end

    def facts(self) -> list[ledger.CoverageFact]:
        """These facts as enrollment's coverage ledger records them."""
        facts: list[ledger.CoverageFact] = [
            ledger.Enrollment(self.enrolled_on, self.coverage_start, self.coverage_end)
        ]
        facts += [ledger.PremiumPayment(YearMonth.parse(p.month), p.paid_on) for p in self.payments]
        facts += [
            ledger.Lapse(YearMonth.parse(lapse.month_unpaid), lapse.last_day, lapse.recorded_on)
            for lapse in self.lapses
        ]
        return facts


# The answer for one enrollment on one day: (covered, reason code).
CoverageRule = Callable[[Enrollment, date], tuple[bool, str]]


def ledger_rule(policy: ledger.CoveragePolicy, known_at: date | None) -> CoverageRule:
    """Enrollment's own rule (its domain's coverage ledger: paid months, grace, lapses) with
    `policy`, counting only the facts known by `known_at` (None: everything)."""

    def rule(enrollment: Enrollment, day: date) -> tuple[bool, str]:
        answer = ledger.CoverageLedger.from_facts(enrollment.facts()).is_covered(
            day, policy, known_at=known_at
        )
        return answer.covered, answer.reason.value

    return rule


def window_rule(enrollment: Enrollment, day: date) -> tuple[bool, str]:
    """Covered inside the window from the enrollment day, up to the last day before a lapse."""
    if day < enrollment.first_day:
        return False, CoverageReason.BEFORE_COVERAGE_START
    if day > enrollment.coverage_end:
        return False, CoverageReason.AFTER_COVERAGE_END
    if enrollment.lapsed_on is not None and day > enrollment.lapsed_on:
        return False, CoverageReason.LAPSED
    return True, CoverageReason.IN_COVERAGE_PERIOD


@dataclass(frozen=True)
class CoverageVerdict:
    """The answer, its reason code and the enrollment it rests on (None: never enrolled)."""

    worker_id: str
    day: date
    covered: bool
    reason: str
    enrollment: Enrollment | None
    failed_programmes: tuple[str, ...] = ()


class _Facts:
    def __init__(self) -> None:
        self.enrolled: dict[str, Enrollment] = {}
        self.payments: dict[str, list[Payment]] = {}
        self.lapses: dict[str, list[Lapse]] = {}
        self.restored: dict[str, set[str]] = {}
        self.failed: list[str] = []

    def add(self, envelope: Envelope, event: Any) -> None:
        code, kind = event.programme_code, envelope.event_type
        day = local_day(envelope.occurred_at)
        if kind == "EnrolledAtBPJS":
            enrolled_on = getattr(event, "enrolled_on", None) or day
            self.enrolled[code] = Enrollment(
                code, event.kpj, event.coverage_start, event.coverage_end, enrolled_on
            )
        elif kind == "PremiumPaid":
            self.payments.setdefault(code, []).append(
                Payment(event.month, getattr(event, "paid_on", None) or day)
            )
        elif kind == "CoverageLapsed":
            recorded = getattr(event, "recorded_on", None) or day
            self.lapses.setdefault(code, []).append(Lapse(event.lapsed_on, event.month_unpaid, recorded))
        elif kind == "CoverageRestored":
            self.restored.setdefault(code, set()).add(event.month_paid)
        elif kind == "EnrollmentFailed":
            self.failed.append(code)

    def enrollments(self) -> list[Enrollment]:
        result = []
        for code, enrollment in self.enrolled.items():
            payments = tuple(sorted(self.payments.get(code, []), key=lambda p: (p.month, p.paid_on)))
            lapses = tuple(self.lapses.get(code, []))
            restored = frozenset(self.restored.get(code, set()))
            result.append(replace(enrollment, payments=payments, lapses=lapses, restored=restored))
        return sorted(result, key=lambda e: (e.coverage_start, e.programme_code))


def _concerns(envelope: Envelope, worker_id: str) -> bool:
    payload = envelope.payload
    if envelope.event_type == "PremiumPaid":
        return worker_id in (payload.get("worker_ids") or ())
    return bool(payload.get("worker_id") == worker_id)


def enrollments_of(envelopes: Iterable[Envelope], worker_id: str) -> tuple[list[Enrollment], list[str]]:
    """The worker's enrollments (with payments and standing lapses) and the programmes whose
    enrollment failed."""
    facts = _Facts()
    for envelope in envelopes:
        if envelope.event_type in ENROLLMENT_TYPES and _concerns(envelope, worker_id):
            facts.add(envelope, decode(envelope))
    return facts.enrollments(), facts.failed


def coverage_on(
    envelopes: Iterable[Envelope], worker_id: str, day: date, rule: CoverageRule = window_rule
) -> CoverageVerdict:
    """Whether `worker_id` was covered on `day`, from enrollment events already cut at `known_at`,
    judged enrollment by enrollment with `rule` (the first covering one wins)."""
    enrollments, failed = enrollments_of(envelopes, worker_id)
    failed_codes = tuple(sorted(set(failed) - {e.programme_code for e in enrollments}))
    if not enrollments:
        return CoverageVerdict(worker_id, day, False, CoverageReason.NOT_ENROLLED, None, failed_codes)
    answers = [(e, *rule(e, day)) for e in enrollments]
    for enrollment, covered, reason in answers:
        if covered:
            return CoverageVerdict(worker_id, day, True, reason, enrollment)
    # Not covered: the enrollment whose window holds the day explains why (unpaid, lapsed...).
    for enrollment, _, reason in answers:
        if enrollment.in_window(day):
            return CoverageVerdict(worker_id, day, False, reason, enrollment)
    if all(e.first_day > day for e in enrollments):
        return CoverageVerdict(worker_id, day, False, CoverageReason.BEFORE_COVERAGE_START, enrollments[0])
    before = [e for e in enrollments if e.coverage_end < day]
    nearest = max(before, key=lambda e: e.coverage_end) if before else enrollments[0]
    after_all = len(before) == len(enrollments)
    reason = CoverageReason.AFTER_COVERAGE_END if after_all else CoverageReason.BETWEEN_COVERAGE_PERIODS
    return CoverageVerdict(worker_id, day, False, reason, nearest)
