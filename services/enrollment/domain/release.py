"""What a release (QuotaReleased from allocation, or the end of a BPU membership) does to a
registration at BPJS, and when an unanswered stop-payment is sent again.

A release is a fact about the seat: the programme stops paying for the worker. What enrollment
records depends on how far the registration got:

* ENROLLED (its request ANSWERED): coverage ends on the release's business day (`CoverageEnded`
  with the last month the programme still owes, see coverage.last_month_billable) and BPJS is
  told to stop (a deregistration, when the worker holds a KPJ).
* still WAITING (no answer yet, or a retry scheduled): the registration is cancelled: no further
  attempt is sent, and an acceptance arriving afterwards enrolls nobody (BPJS registered the
  person anyway, so the KPJ it answered is deregistered at once).
* REFUSED (failed): nothing to end. BPJS refused them; allocation releases every failed
  registration, so a late acceptance of a failed registration is ended and deregistered when it
  arrives.
* Already ended: a redelivered or second release changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from enum import StrEnum

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import DeregistrationRequested, RegistrationRequested
from libs.events.contracts.enrollment import CoverageEnded, EnrolledAtBPJS, ReleaseReason
from services.enrollment.domain.bpjs_request import RequestStatus
from services.enrollment.domain.coverage import last_month_billable
from services.enrollment.domain.months import YearMonth

DEREGISTRATION_SUFFIX = ":stop"


class ReleaseAction(StrEnum):
    """What a release does to a registration."""

    END = "END"  # enrolled: CoverageEnded, and a deregistration at BPJS
    CANCEL = "CANCEL"  # still waiting for BPJS: CoverageEnded without a KPJ; no attempt follows
    NOTHING = "NOTHING"  # failed, or already ended


def release_action(status: RequestStatus, already_ended: bool) -> ReleaseAction:
    """The action a release calls for on a registration whose request is in `status`."""
    if already_ended or status is RequestStatus.REFUSED:
        return ReleaseAction.NOTHING
    if status is RequestStatus.ANSWERED:
        return ReleaseAction.END
    return ReleaseAction.CANCEL


def deregistration_overdue(sent_at: datetime, now: datetime, answer_timeout: timedelta) -> bool:
    """A stop-payment unanswered for `answer_timeout` is sent again (attempt + 1), as often as it
    takes: unlike a registration there is nothing to give up to, and BPJS must hear it."""
    return now >= sent_at + answer_timeout


def deregistration_id_of(worker_id: str, programme_code: str) -> str:
    """The id of the stop-payment of a registration (one per worker and programme)."""
    return f"{worker_id}:{programme_code}{DEREGISTRATION_SUFFIX}"


def stop_payment(
    request: RegistrationRequested, kpj: str, last_covered_day: date, reason: ReleaseReason, attempt: int = 1
) -> DeregistrationRequested:
    """The stop-payment of the KPJ BPJS gave the registration `request` started."""
    return DeregistrationRequested(
        request_id=deregistration_id_of(request.worker_id, request.programme_code),
        attempt=attempt,
        worker_id=request.worker_id,
        programme_code=request.programme_code,
        kpj=kpj,
        funder=request.funder,
        regency_code=request.regency_code,
        last_covered_day=last_covered_day,
        reason=reason,
    )


def end_events(
    request: RegistrationRequested,
    enrolled: EnrolledAtBPJS | None,
    reason: ReleaseReason,
    ended_on: date,
    cause_event_id: uuid.UUID | None,
) -> list[DomainEvent]:
    """CoverageEnded on `ended_on` (the last covered day) and, for a worker BPJS enrolled, the
    stop-payment. The programme owes the month containing `ended_on` (premiums are paid ahead
    for whole months) and no later one; a worker never enrolled is owed nothing."""
    owed = None
    if enrolled is not None and reason != "enrollment_failed":
        start = max(enrolled.coverage_start, enrolled.enrolled_on or enrolled.coverage_start)
        owed = last_month_billable(ended_on, YearMonth.of(start), YearMonth.of(enrolled.coverage_end))
    events: list[DomainEvent] = [
        CoverageEnded(
            worker_id=request.worker_id,
            programme_code=request.programme_code,
            regency_code=request.regency_code,
            funder=request.funder,
            ended_on=ended_on,
            last_month_billable=None if owed is None else str(owed),
            reason=reason,
            kpj=enrolled.kpj if enrolled else None,
            cause_event_id=None if cause_event_id is None else str(cause_event_id),
        )
    ]
    if enrolled is not None:
        events.append(stop_payment(request, enrolled.kpj, ended_on, reason))
    return events
