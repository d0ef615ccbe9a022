"""The request lifecycle (bpjs_request.py) written in registration events: RegistrationRequested
again for a retry, EnrolledAtBPJS with the KPJ BPJS answered, EnrollmentFailed,
RegistrationRetryScheduled, and KpjConflictDetected for a second KPJ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import RegistrationAccepted, RegistrationRejected, RegistrationRequested
from libs.events.contracts.enrollment import (
    EnrolledAtBPJS,
    EnrollmentFailed,
    KpjConflictDetected,
    RegistrationRetryScheduled,
)
from services.enrollment.domain import bpjs_request as lifecycle
from services.enrollment.domain.bpjs_request import Answered, Outcome, Refused, Request
from services.enrollment.domain.release import end_events


@dataclass(frozen=True)
class RegistrationEvents:
    """The request lifecycle (bpjs_request.RequestEvents) written in registration events."""

    requested: RegistrationRequested
    registered_on: date | None = None
    continued: bool = False

    def resent(self, attempt: int) -> list[DomainEvent]:
        return [self.requested.model_copy(update={"attempt": attempt})]

    def answered(self, answer: Answered, before: Request) -> list[DomainEvent]:
        r = self.requested
        assert self.registered_on is not None
        enrolled = EnrolledAtBPJS(
            worker_id=r.worker_id,
            programme_code=r.programme_code,
            funder=r.funder,
            regency_code=r.regency_code,
            kpj=answer.answer,
            coverage_start=r.coverage_start,
            coverage_end=r.coverage_end,
            request_id=r.request_id,
            enrolled_on=self.registered_on,
            attempt=answer.attempt,
            continuing=self.continued,
        )
        if before.status is not lifecycle.RequestStatus.REFUSED:
            return [enrolled]
        # BPJS registered someone enrollment had given up on: allocation released that seat on
        # EnrollmentFailed, so the programme does not take them on; BPJS is told to stop.
        return [enrolled, *end_events(r, enrolled, "enrollment_failed", self.registered_on, None)]

    def refused(self, refusal: Refused, attempts: int) -> list[DomainEvent]:
        r = self.requested
        return [
            EnrollmentFailed(
                worker_id=r.worker_id,
                programme_code=r.programme_code,
                regency_code=r.regency_code,
                reason_code=refusal.reason_code,
                reason=refusal.reason,
                request_id=r.request_id,
                attempts=attempts,
            )
        ]

    def retry_scheduled(self, refusal: Refused, retry_at: datetime) -> list[DomainEvent]:
        r = self.requested
        return [
            RegistrationRetryScheduled(
                worker_id=r.worker_id,
                programme_code=r.programme_code,
                request_id=r.request_id,
                attempt=refusal.attempt,
                reason_code=refusal.reason_code,
                reason=refusal.reason,
                retry_at=retry_at,
            )
        ]

    def conflict(self, answer: Answered, held: str) -> list[DomainEvent]:
        r = self.requested
        return [
            KpjConflictDetected(
                worker_id=r.worker_id,
                programme_code=r.programme_code,
                request_id=r.request_id,
                attempt=answer.attempt,
                kpj_held=held,
                kpj_answered=answer.answer,
            )
        ]


def outcome_name(outcome: Outcome) -> str:
    """How an answer's outcome is counted: a second KPJ for one registration is a KPJ_CONFLICT."""
    return "KPJ_CONFLICT" if outcome is Outcome.CONFLICT else outcome.value


def result_of(answer: RegistrationAccepted | RegistrationRejected) -> lifecycle.Result:
    """The lifecycle's view of a BPJS answer to a registration."""
    if isinstance(answer, RegistrationAccepted):
        return Answered(attempt=answer.attempt, answer=answer.kpj)
    return Refused(answer.attempt, answer.reason_code, answer.reason, answer.retryable)
