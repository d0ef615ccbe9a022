"""The BPJS Ketenagakerjaan boundary: what Lindung asks the insurer and what it answers.

A real integrator implements the other side from these contracts alone: docs/bpjs-contract.md
describes the topics, keys, headers, idempotency rules, timeouts and error codes, with a worked
example; docs/schemas/ holds the JSON Schema of every payload.

Requests (`lindung.bpjs.requests.v1`) carry a `request_id` (registration) or `payment_request_id`
(premium payment) that names the business request, and an `attempt` (1, 2, ...) that Lindung
raises each time it re-sends the same request after a timeout or a retryable refusal. BPJS answers
on `lindung.bpjs.results.v1`, echoing both: the same request must get the same decision whatever
the attempt, and Lindung uses the echoed attempt to recognise stale answers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, NikDigits, RegencyCode, Rupiah, Sector, WorkerIdentity
from libs.pii import ENCRYPTED_FIELDS

YearMonthText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", description="Calendar month, YYYY-MM.")]

RegistrationRejectionCode = Literal[
    "NIK_NOT_FOUND",
    "ALREADY_REGISTERED",
    "AGE_OUT_OF_RANGE",
    "DUKCAPIL_UNAVAILABLE",
    "KPJ_MISMATCH",
    "KPJ_UNKNOWN",
    "OTHER",
]
PaymentRejectionCode = Literal[
    "AMOUNT_MISMATCH",
    "UNKNOWN_PARTICIPANT",
    "NOT_ACTIVE",
    "ALREADY_PAID",
    "SERVICE_UNAVAILABLE",
    "OTHER",
]


class RegistrationRequested(DomainEvent):
    """Lindung asks BPJS to register a BPU participant for a programme's coverage period."""

    event_type = "RegistrationRequested"
    topic = topics.BPJS_REQUESTS
    personal_fields = ENCRYPTED_FIELDS

    request_id: str = Field(description="Names the registration (one per worker and programme).")
    attempt: int = Field(ge=1, description="1 for the first send; +1 for each re-send of the request.")
    worker_id: str
    programme_code: str
    identity: WorkerIdentity
    funder: Funder
    regency_code: RegencyCode
    sector: Sector
    coverage_start: date
    coverage_end: date
    kpj: str | None = Field(
        default=None,
        max_length=40,
        description="The KPJ the participant already holds (a continuing participant): BPJS keeps "
        "it and moves the payer to this programme instead of registering anyone new.",
    )


class RegistrationAccepted(DomainEvent):
    """BPJS registered the participant and issued (or found) a KPJ number."""

    event_type = "RegistrationAccepted"
    topic = topics.BPJS_RESULTS

    request_id: str
    worker_id: str
    kpj: str = Field(min_length=1, max_length=40)
    registered_at: datetime
    attempt: int = Field(
        default=1,
        ge=1,
        description="The attempt answered (echo of the request's). Absent in answers from before "
        "retries existed: those answered attempt 1.",
    )
    continued: bool = Field(
        default=False,
        description="The participant was already registered: BPJS kept their KPJ and took this "
        "programme as the new payer.",
    )


class RegistrationRejected(DomainEvent):
    """BPJS refused the registration, with its reason."""

    event_type = "RegistrationRejected"
    topic = topics.BPJS_RESULTS

    request_id: str
    worker_id: str
    reason_code: RegistrationRejectionCode
    reason: str = Field(description="Human-readable reason (Indonesian), shown to officers.")
    attempt: int = Field(default=1, ge=1, description="The attempt answered (echo of the request's).")
    retryable: bool = Field(
        default=False,
        description="True when the same request may succeed later (e.g. Dukcapil unreachable): "
        "Lindung re-sends it with attempt + 1 after a backoff. False: the refusal is final.",
    )


DeregistrationReason = Literal[
    "withdrawn",
    "died",
    "removed_by_decree",
    "held_by_other_programme",
    "membership_ended",
    # BPJS accepted a registration after enrollment gave up on it (its seat was released).
    "enrollment_failed",
]


class DeregistrationRequested(DomainEvent):
    """Lindung tells BPJS that a programme stops paying for a participant after `last_covered_day`
    (a stop-payment: the worker left the programme). BPJS keeps the KPJ; another payer may take it
    over later."""

    event_type = "DeregistrationRequested"
    topic = topics.BPJS_REQUESTS

    request_id: str = Field(description="Names the deregistration (one per worker and programme).")
    attempt: int = Field(ge=1)
    worker_id: str
    programme_code: str
    kpj: str
    funder: Funder
    regency_code: RegencyCode
    last_covered_day: date
    reason: DeregistrationReason


class DeregistrationConfirmed(DomainEvent):
    """BPJS recorded that the programme no longer pays for the participant after `effective_on`."""

    event_type = "DeregistrationConfirmed"
    topic = topics.BPJS_RESULTS

    request_id: str
    attempt: int = Field(ge=1)
    worker_id: str
    kpj: str
    effective_on: date


DeregistrationRejectionCode = Literal["UNKNOWN_PARTICIPANT", "OTHER"]


class DeregistrationRejected(DomainEvent):
    """BPJS refused a deregistration (final): it holds no participant with this KPJ whom the
    programme pays for, so there is no payment to stop."""

    event_type = "DeregistrationRejected"
    topic = topics.BPJS_RESULTS

    request_id: str
    attempt: int = Field(ge=1, description="The attempt answered (echo of the request's).")
    worker_id: str
    kpj: str
    reason_code: DeregistrationRejectionCode
    reason: str = Field(description="Human-readable reason (Indonesian), shown to officers.")


class PremiumPaymentRequested(DomainEvent):
    """Lindung pays one month's premiums for a list of participants (one bill line: one funder,
    one regency) and asks BPJS to confirm."""

    event_type = "PremiumPaymentRequested"
    topic = topics.BPJS_REQUESTS

    payment_request_id: str = Field(description="Names the bill line paid; stable across attempts.")
    attempt: int = Field(ge=1)
    programme_code: str
    month: YearMonthText
    funder: Funder
    regency_code: RegencyCode
    kpjs: list[str] = Field(min_length=1, description="KPJ of every participant paid for, once each.")
    participants: int = Field(ge=1, description="len(kpjs).")
    jkk_per_participant: Rupiah
    jkm_per_participant: Rupiah
    jkk_total: Rupiah
    jkm_total: Rupiah
    total: Rupiah

    def partition_key(self) -> str | None:
        return self.payment_request_id


class PremiumPaymentConfirmed(DomainEvent):
    """BPJS received the premiums of a payment request: every listed participant's month is paid."""

    event_type = "PremiumPaymentConfirmed"
    topic = topics.BPJS_RESULTS

    payment_request_id: str
    attempt: int = Field(ge=1, description="The attempt answered (echo of the request's).")
    payment_ref: str = Field(min_length=1, max_length=60, description="BPJS's receipt number.")
    paid_at: datetime
    participants: int = Field(ge=1)
    total: Rupiah

    def partition_key(self) -> str | None:
        return self.payment_request_id


class PremiumPaymentRejected(DomainEvent):
    """BPJS refused a payment request as a whole (nothing of it is booked)."""

    event_type = "PremiumPaymentRejected"
    topic = topics.BPJS_RESULTS

    payment_request_id: str
    attempt: int = Field(ge=1, description="The attempt answered (echo of the request's).")
    reason_code: PaymentRejectionCode
    reason: str
    retryable: bool = False
    kpjs: list[str] = Field(default_factory=list, description="The participants concerned, if any.")

    def partition_key(self) -> str | None:
        return self.payment_request_id


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
