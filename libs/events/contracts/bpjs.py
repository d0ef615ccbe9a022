"""The BPJS Ketenagakerjaan boundary: what Lindung asks the insurer and what it answers.

A real integrator implements the other side from these contracts alone (see docs/).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, NikDigits, RegencyCode, Rupiah, Sector, WorkerIdentity


class RegistrationRequested(DomainEvent):
    """Lindung asks BPJS to register a BPU participant for a programme's coverage period."""

    event_type = "RegistrationRequested"
    topic = topics.BPJS_REQUESTS

    request_id: str
    attempt: int = Field(ge=1)
    worker_id: str
    programme_code: str
    identity: WorkerIdentity
    funder: Funder
    regency_code: RegencyCode
    sector: Sector
    coverage_start: date
    coverage_end: date


class RegistrationAccepted(DomainEvent):
    """BPJS registered the participant and issued (or found) a KPJ number."""

    event_type = "RegistrationAccepted"
    topic = topics.BPJS_RESULTS

    request_id: str
    worker_id: str
    kpj: str = Field(min_length=1, max_length=40)
    registered_at: datetime


class RegistrationRejected(DomainEvent):
    """BPJS refused the registration, with its reason."""

    event_type = "RegistrationRejected"
    topic = topics.BPJS_RESULTS

    request_id: str
    worker_id: str
    reason_code: Literal["NIK_NOT_FOUND", "ALREADY_REGISTERED", "AGE_OUT_OF_RANGE", "OTHER"]
    reason: str


class ClaimPaid(DomainEvent):
    """BPJS paid a claim (JKK work accident or JKM death) to a worker or their heirs."""

    event_type = "ClaimPaid"
    topic = topics.BPJS_CLAIMS

    claim_id: str
    kpj: str
    nik: NikDigits
    programme: Literal["JKK", "JKM"]
    benefit_kind: str
    incident_date: date
    paid_date: date
    amount: Rupiah

    def partition_key(self) -> str | None:
        return self.kpj
