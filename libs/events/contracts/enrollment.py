"""Events of enrollment: registrations at BPJS, coverage and premiums.

Streams (aggregate ids) in the enrollment event store:

* `registration-{worker_id}:{programme_code}`: RegistrationRequested (attempt 1, 2, ...),
  RegistrationRetryScheduled, EnrolledAtBPJS or EnrollmentFailed, KpjConflictDetected,
  CoverageLapsed, CoverageRestored: one registration per worker and programme.
* `bill-{bill_id}`: PremiumBilled, PremiumPaymentRequested (attempt 1, 2, ...),
  PremiumPaymentRetryScheduled, PremiumPaid or PremiumPaymentFailed: one bill line (one month,
  one funder, one regency, at most a configured number of workers).

docs/enrollment.md tells the rules; dates are calendar days in Western Indonesia time (WIB).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, RegencyCode, Rupiah

_MONTH = r"^\d{4}-\d{2}$"


class EnrolledAtBPJS(DomainEvent):
    """BPJS registered the worker: they hold a KPJ and are covered for the period.

    `coverage_start`..`coverage_end` is the programme's period the registration asked for.
    Coverage itself begins no earlier than `enrolled_on`, and only for months whose premium is
    paid (PremiumPaid); `GET /coverage/{nik}?on=DATE` answers for a given day.
    """

    event_type = "EnrolledAtBPJS"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    funder: Funder
    regency_code: RegencyCode
    kpj: str = Field(min_length=1, max_length=40)
    coverage_start: date
    coverage_end: date
    request_id: str
    enrolled_on: date | None = Field(
        default=None, description="The day (WIB) BPJS registered the participant; None in old events."
    )
    attempt: int = Field(default=1, ge=1, description="The attempt whose answer enrolled the worker.")
    continuing: bool = Field(
        default=False,
        description="The worker already held this KPJ (an earlier programme or payer): this programme "
        "took over paying for it; BPJS registered nobody new.",
    )


class EnrollmentFailed(DomainEvent):
    """BPJS refused the registration (or retries ran out); the quota seat is released."""

    event_type = "EnrollmentFailed"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    regency_code: RegencyCode
    reason_code: str
    reason: str
    request_id: str
    attempts: int = Field(default=1, ge=1, description="How many attempts were sent.")


class RegistrationRetryScheduled(DomainEvent):
    """An attempt was refused with a retryable reason, or went unanswered: the next attempt is
    due at `retry_at` (backoff with jitter)."""

    event_type = "RegistrationRetryScheduled"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    request_id: str
    attempt: int = Field(ge=1, description="The attempt that failed.")
    reason_code: str
    reason: str
    retry_at: datetime


class KpjConflictDetected(DomainEvent):
    """BPJS answered an enrolled worker's registration with another KPJ: the first KPJ stands and
    the programme office must raise it with BPJS."""

    event_type = "KpjConflictDetected"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    request_id: str
    attempt: int = Field(ge=1)
    kpj_held: str
    kpj_answered: str


class PremiumBilled(DomainEvent):
    """One line of a month's bill: what a funder owes BPJS for one regency's covered workers."""

    event_type = "PremiumBilled"
    topic = topics.ENROLLMENT

    bill_id: str
    programme_code: str
    month: str = Field(pattern=_MONTH)
    funder: Funder
    regency_code: RegencyCode
    workers: int = Field(ge=1)
    jkk_per_worker: Rupiah
    jkm_per_worker: Rupiah
    jkk_total: Rupiah
    jkm_total: Rupiah
    total: Rupiah
    worker_ids: list[str] = Field(min_length=1)
    billed_on: date

    def partition_key(self) -> str | None:
        return f"{self.programme_code}:{self.regency_code}"


class PremiumPaymentRetryScheduled(DomainEvent):
    """A payment attempt was refused with a retryable reason, or went unanswered."""

    event_type = "PremiumPaymentRetryScheduled"
    topic = topics.ENROLLMENT

    bill_id: str
    programme_code: str
    month: str = Field(pattern=_MONTH)
    regency_code: RegencyCode
    attempt: int = Field(ge=1, description="The attempt that failed.")
    reason_code: str
    reason: str
    retry_at: datetime

    def partition_key(self) -> str | None:
        return f"{self.programme_code}:{self.regency_code}"


class PremiumPaid(DomainEvent):
    """BPJS confirmed a month's premium for a funder and regency."""

    event_type = "PremiumPaid"
    topic = topics.ENROLLMENT

    programme_code: str
    month: str = Field(pattern=_MONTH)
    funder: Funder
    regency_code: RegencyCode
    workers: int = Field(ge=0)
    jkk_total: Rupiah
    jkm_total: Rupiah
    total: Rupiah
    payment_ref: str
    bill_id: str = Field(default="", description="The bill line paid (PremiumBilled.bill_id).")
    paid_on: date | None = Field(default=None, description="The day (WIB) BPJS booked the payment.")
    worker_ids: list[str] = Field(default_factory=list, description="The workers whose month is paid.")

    def partition_key(self) -> str | None:
        return f"{self.programme_code}:{self.regency_code}"


class PremiumPaymentFailed(DomainEvent):
    """BPJS refused a bill line for good (or retries ran out): its workers' month stays unpaid and
    may be billed again."""

    event_type = "PremiumPaymentFailed"
    topic = topics.ENROLLMENT

    bill_id: str
    programme_code: str
    month: str = Field(pattern=_MONTH)
    funder: Funder
    regency_code: RegencyCode
    workers: int = Field(ge=1)
    total: Rupiah
    reason_code: str
    reason: str
    attempts: int = Field(ge=1)

    def partition_key(self) -> str | None:
        return f"{self.programme_code}:{self.regency_code}"


class CoverageLapsed(DomainEvent):
    """A month went unpaid past the grace period: coverage ended.

    `lapsed_on` is the last day covered; `month_unpaid` the first month left unpaid.
    """

    event_type = "CoverageLapsed"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    lapsed_on: date
    month_unpaid: str = Field(pattern=_MONTH)
    recorded_on: date | None = Field(default=None, description="The day (WIB) the lapse was recorded.")
    grace_months: int | None = Field(default=None, ge=0, description="The grace setting applied.")


class CoverageRestored(DomainEvent):
    """The premium of a lapsed month was paid after all: coverage is whole again from
    `restored_from` (the first day of that month)."""

    event_type = "CoverageRestored"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    month_paid: str = Field(pattern=_MONTH)
    restored_from: date
    bill_id: str


ReleaseReason = Literal[
    "withdrawn",
    "died",
    "removed_by_decree",
    "held_by_other_programme",
    "enrollment_failed",
    "membership_ended",
]


class CoverageEnded(DomainEvent):
    """The programme stopped paying for the worker: from `ended_on` + 1 day nobody bills or covers
    them under this programme. Recorded on every release allocation publishes (withdrawn, died,
    removed by an SK perubahan, held by another programme, enrollment failed) and when BPJS ends
    the membership. `last_month_billable` is the last calendar month the programme owes."""

    event_type = "CoverageEnded"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    regency_code: RegencyCode
    funder: Funder
    ended_on: date = Field(description="The last day covered under this programme.")
    last_month_billable: str | None = Field(
        default=None, pattern=_MONTH, description="The last month billed for; None: no month."
    )
    reason: ReleaseReason
    kpj: str | None = None
    cause_event_id: str | None = Field(default=None, description="The release that caused this.")


class MembershipEnded(DomainEvent):
    """More consecutive months went unpaid than BPJS accepts in arrears: the BPU membership ended
    and a new registration is needed before the worker can be covered again."""

    event_type = "MembershipEnded"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    regency_code: RegencyCode
    kpj: str
    months_unpaid: list[str] = Field(min_length=1)
    ended_on: date = Field(description="The last day covered (end of the last paid month).")
    arrears_months_allowed: int = Field(ge=0)
