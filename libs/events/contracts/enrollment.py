"""Events of enrollment: registrations at BPJS, coverage and premiums."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, RegencyCode, Rupiah


class EnrolledAtBPJS(DomainEvent):
    """BPJS registered the worker: they hold a KPJ and are covered for the period."""

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


class PremiumPaid(DomainEvent):
    """BPJS confirmed a month's premium for a funder and regency."""

    event_type = "PremiumPaid"
    topic = topics.ENROLLMENT

    programme_code: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    funder: Funder
    regency_code: RegencyCode
    workers: int = Field(ge=0)
    jkk_total: Rupiah
    jkm_total: Rupiah
    total: Rupiah
    payment_ref: str

    def partition_key(self) -> str | None:
        return f"{self.programme_code}:{self.regency_code}"


class CoverageLapsed(DomainEvent):
    """A month went unpaid past the grace period: coverage ended."""

    event_type = "CoverageLapsed"
    topic = topics.ENROLLMENT

    worker_id: str
    programme_code: str
    lapsed_on: date
    month_unpaid: str = Field(pattern=r"^\d{4}-\d{2}$")
