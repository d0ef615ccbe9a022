"""A bill line and its payment at BPJS, as a decider over its stream.

A bill line (one month, one funder, one regency, a bounded number of workers) is one stream,
`bill-{bill_id}`: PremiumBilled (who and how much), then the payment request's lifecycle
(bpjs_request.py) written in payment events (`PaymentEvents`): PremiumPaymentRequested
(attempt 1, 2, ...), PremiumPaymentRetryScheduled, then PremiumPaid or PremiumPaymentFailed.
BPJS's answer is the payment receipt: a confirmation counts whichever attempt it answers, even
after the line was given up; a refusal counts only for the attempt in flight; the same receipt
twice changes nothing, a second receipt (TWO_RECEIPTS) neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    PremiumPaymentRequested,
)
from libs.events.contracts.enrollment import (
    PremiumBilled,
    PremiumPaid,
    PremiumPaymentFailed,
    PremiumPaymentRetryScheduled,
)
from libs.eventstore.decider import Decider, Recorded
from libs.eventstore.kit import Origin
from services.enrollment.domain import bpjs_request as lifecycle
from services.enrollment.domain.bpjs_request import Answered, Outcome, Refused, Request, RequestPolicy
from services.enrollment.domain.registration import LocalDate

KIND = "bill"


def bill_stream(bill_id: str) -> str:
    return f"bill-{bill_id}"


@dataclass(frozen=True)
class Bill:
    """A bill stream folded: the line billed, its first payment request, and the payment's
    lifecycle at BPJS (`request.answer` is the receipt once PAID)."""

    billed: PremiumBilled | None = None
    requested: PremiumPaymentRequested | None = None
    request: Request | None = None
    correlation_id: uuid.UUID | None = None
    last_sent_id: uuid.UUID | None = None

    @property
    def paid(self) -> bool:
        return self.request is not None and self.request.status is lifecycle.RequestStatus.ANSWERED

    @property
    def receipt(self) -> str | None:
        return self.request.answer if self.request is not None else None


def evolve(state: Bill, recorded: Recorded) -> Bill:
    """One recorded event applied to a bill."""
    event, envelope = recorded.event, recorded.envelope
    if state.correlation_id is None:
        state = replace(state, correlation_id=envelope.correlation_id)
    if isinstance(event, PremiumBilled):
        return replace(state, billed=event)
    if isinstance(event, PremiumPaymentRequested):
        request = lifecycle.sent(state.request, event.attempt, envelope.occurred_at)
        first = state.requested or event
        return replace(state, requested=first, request=request, last_sent_id=envelope.event_id)
    if state.request is None:
        return state
    if isinstance(event, PremiumPaymentRetryScheduled):
        return replace(state, request=lifecycle.scheduled(state.request, event.retry_at))
    if isinstance(event, PremiumPaid):
        return replace(state, request=lifecycle.answered(state.request, event.payment_ref))
    if isinstance(event, PremiumPaymentFailed):
        return replace(state, request=lifecycle.refused(state.request, event.reason))
    return state


@dataclass(frozen=True)
class OpenBill:
    """Bill a line and send attempt 1 of its payment (nothing when the line exists)."""

    billed: PremiumBilled
    request: PremiumPaymentRequested
    origin: Origin


@dataclass(frozen=True)
class ApplyPayment:
    """Record BPJS's answer to a payment attempt."""

    answer: PremiumPaymentConfirmed | PremiumPaymentRejected
    received_at: datetime
    jitter: float
    origin: Origin


@dataclass(frozen=True)
class PaymentTick:
    """The clock at `now`: a due retry is sent, an unanswered attempt times out."""

    bill_id: str
    now: datetime
    jitter: float
    origin: Origin


Command = OpenBill | ApplyPayment | PaymentTick


def stream_of(command: Command) -> str:
    """The bill stream a command is about."""
    if isinstance(command, OpenBill):
        return bill_stream(command.billed.bill_id)
    if isinstance(command, ApplyPayment):
        return bill_stream(command.answer.payment_request_id)
    return bill_stream(command.bill_id)


@dataclass(frozen=True)
class PaymentEvents:
    """The request lifecycle (bpjs_request.RequestEvents) written in payment events."""

    billed: PremiumBilled
    requested: PremiumPaymentRequested
    paid_at: datetime | None = None
    local_date: LocalDate | None = None

    def resent(self, attempt: int) -> list[DomainEvent]:
        return [self.requested.model_copy(update={"attempt": attempt})]

    def answered(self, answer: Answered, before: Request) -> list[DomainEvent]:
        b = self.billed
        paid_on = self.local_date(self.paid_at) if self.local_date and self.paid_at else None
        return [
            PremiumPaid(
                programme_code=b.programme_code,
                month=b.month,
                funder=b.funder,
                regency_code=b.regency_code,
                workers=b.workers,
                jkk_total=b.jkk_total,
                jkm_total=b.jkm_total,
                total=b.total,
                payment_ref=answer.answer,
                bill_id=b.bill_id,
                paid_on=paid_on,
                worker_ids=b.worker_ids,
            )
        ]

    def refused(self, refusal: Refused, attempts: int) -> list[DomainEvent]:
        b = self.billed
        return [
            PremiumPaymentFailed(
                bill_id=b.bill_id,
                programme_code=b.programme_code,
                month=b.month,
                funder=b.funder,
                regency_code=b.regency_code,
                workers=b.workers,
                total=b.total,
                reason_code=refusal.reason_code,
                reason=refusal.reason,
                attempts=attempts,
            )
        ]

    def retry_scheduled(self, refusal: Refused, retry_at: datetime) -> list[DomainEvent]:
        b = self.billed
        return [
            PremiumPaymentRetryScheduled(
                bill_id=b.bill_id,
                programme_code=b.programme_code,
                month=b.month,
                regency_code=b.regency_code,
                attempt=refusal.attempt,
                reason_code=refusal.reason_code,
                reason=refusal.reason,
                retry_at=retry_at,
            )
        ]

    def conflict(self, answer: Answered, held: str) -> list[DomainEvent]:
        return []  # no event says so: the first receipt stands, the outcome is counted


def outcome_name(outcome: Outcome) -> str:
    """How a payment answer's outcome is counted: a second receipt for one line is TWO_RECEIPTS."""
    return "TWO_RECEIPTS" if outcome is Outcome.CONFLICT else outcome.value


@dataclass(frozen=True)
class Payments:
    """The payment decisions under the service's policies (bound once, at bootstrap)."""

    policy: RequestPolicy
    local_date: LocalDate

    def judge_answer(self, command: ApplyPayment, state: Bill) -> tuple[Outcome, list[DomainEvent]]:
        """What BPJS's answer does to the payment (the rule applied) and its events."""
        answer = command.answer
        billed, requested = state.billed, state.requested
        if billed is None or requested is None or state.request is None:
            raise LookupError(
                f"BPJS answered payment {answer.payment_request_id} that Lindung never requested"
            )
        result: lifecycle.Result
        paid_at = None
        if isinstance(answer, PremiumPaymentConfirmed):
            if (answer.participants, answer.total) != (billed.workers, billed.total):
                raise ValueError(
                    f"BPJS confirmed {answer.participants} participants / Rp{answer.total} for "
                    f"{answer.payment_request_id}, billed {billed.workers} / Rp{billed.total}"
                )
            result, paid_at = Answered(attempt=answer.attempt, answer=answer.payment_ref), answer.paid_at
        else:
            result = Refused(answer.attempt, answer.reason_code, answer.reason, answer.retryable)
        events = PaymentEvents(billed, requested, paid_at, self.local_date)
        return lifecycle.decide_result(
            state.request, result, self.policy, command.received_at, command.jitter, events
        )

    def judge_tick(self, command: PaymentTick, state: Bill) -> tuple[str | None, list[DomainEvent]]:
        """What the clock does to the payment: `retry`, `timeout`, or None (nothing due)."""
        if state.billed is None or state.requested is None or state.request is None:
            return None, []
        events = PaymentEvents(state.billed, state.requested)
        action, decided = lifecycle.decide_clock(
            state.request, command.now, self.policy, command.jitter, events
        )
        return (action.value if action else None), decided

    def decide(self, command: Command, state: Bill) -> Sequence[DomainEvent]:
        """The events a command records in the bill's stream."""
        if isinstance(command, OpenBill):
            return [] if state.billed is not None else [command.billed, command.request]
        if isinstance(command, ApplyPayment):
            return self.judge_answer(command, state)[1]
        return self.judge_tick(command, state)[1]

    def decider(self) -> Decider[Command, Bill]:
        """The bill stream as a decider for the stream kit."""
        return Decider(KIND, Bill(), evolve, self.decide, stream_of)
