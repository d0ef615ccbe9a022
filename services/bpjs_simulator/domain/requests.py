"""How the pretend insurer answers Lindung's requests: registrations (a new participant, or a
known one under a new payer), deregistrations (a payer stopped) and premium payments (booked as a
whole or refused as a whole), decided on the batch's ledger (domain/ledger.py). Plain Python.

`decide` answers one request attempt and says which facts the answer records; `decide_batch`
decides a batch in order, each decision's facts applied to the ledger before the next request
(the insurer's evolve), so a later request of the batch sees what an earlier one decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    DeregistrationRejected,
    DeregistrationRequested,
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    PremiumPaymentRequested,
    RegistrationAccepted,
    RegistrationRejected,
    RegistrationRequested,
)
from services.bpjs_simulator.domain.insurer import (
    Continuation,
    InsurerBehaviour,
    Refusal,
    decide_registration,
)
from services.bpjs_simulator.domain.ledger import (
    Answered,
    Continued,
    Deregistration,
    DeregistrationDecided,
    Fact,
    Issued,
    LatestPayer,
    Ledger,
    NewPayer,
    PayerAdded,
    PayerStopped,
    Payment,
    PaymentDecided,
)
from services.bpjs_simulator.domain.payments import (
    PaymentRequest,
    deregistration_refusal,
    payment_ref,
    payment_refusal,
    payment_stopped,
)

# BPJS dates its registrations and stops in Western Indonesia time.
BPJS_TIMEZONE = ZoneInfo("Asia/Jakarta")

Request = RegistrationRequested | DeregistrationRequested | PremiumPaymentRequested

# What each answer says of its request, as the `answered` log keeps it.
_DECISIONS: dict[type[DomainEvent], str] = {
    RegistrationAccepted: "accepted",
    DeregistrationConfirmed: "confirmed",
    PremiumPaymentConfirmed: "confirmed",
}


@dataclass(frozen=True)
class Context:
    """What a batch is decided under: the insurer's behaviour and the business instant."""

    behaviour: InsurerBehaviour
    now: datetime

    @property
    def today(self) -> date:
        """Today in BPJS's calendar."""
        return self.now.astimezone(BPJS_TIMEZONE).date()


@dataclass(frozen=True)
class Decided:
    """One request attempt answered: the answer and the facts it records (none and no answer:
    the attempt was answered already)."""

    kind: str
    request_id: str
    attempt: int
    answer: DomainEvent | None
    facts: tuple[Fact, ...] = ()


def attempt_of(request: Request) -> tuple[str, str, int]:
    """The kind, request id and attempt a request names."""
    if isinstance(request, RegistrationRequested):
        return "registration", request.request_id, request.attempt
    if isinstance(request, DeregistrationRequested):
        return "deregistration", request.request_id, request.attempt
    return "payment", request.payment_request_id, request.attempt


def decide(request: Request, ledger: Ledger, context: Context) -> Decided:
    """Answer one request attempt on `ledger` (once: a repeated delivery is answered once)."""
    kind, request_id, attempt = attempt_of(request)
    if (kind, request_id, attempt) in ledger.answered:
        return Decided(kind, request_id, attempt, None)
    answer: DomainEvent
    facts: list[Fact]
    if isinstance(request, RegistrationRequested):
        answer, facts = register(request, ledger, context)
    elif isinstance(request, DeregistrationRequested):
        answer, facts = deregister(request, ledger)
    else:
        answer, facts = pay(request, ledger, context)
    logged = Answered(
        kind,
        request_id,
        attempt,
        _DECISIONS.get(type(answer), "rejected"),
        getattr(answer, "reason_code", None),
    )
    return Decided(kind, request_id, attempt, answer, (*facts, logged))


def decide_batch(requests: Sequence[Request], ledger: Ledger, context: Context) -> list[Decided]:
    """Decide `requests` in order, recording each decision's facts in `ledger` before the next."""
    decided: list[Decided] = []
    for request in requests:
        one = decide(request, ledger, context)
        for fact in one.facts:
            ledger.apply(fact)
        decided.append(one)
    return decided


def register(
    event: RegistrationRequested, ledger: Ledger, context: Context
) -> tuple[DomainEvent, list[Fact]]:
    """Accept (a new participant, or a known one under a new payer) or refuse a registration."""
    before = ledger.registered.get(event.request_id)
    if before is not None:
        # A re-sent request gets the same KPJ, the same instant and the same `continued`.
        return _accepted(event, before.kpj, before.registered_at, before.continued), []
    nik = event.identity.nik
    nik_kpj = ledger.kpjs.get(nik)
    stated_kpj_known = event.kpj is not None and (event.kpj == nik_kpj or event.kpj in ledger.issued)
    decision = decide_registration(
        nik=nik,
        birth_date=date.fromisoformat(event.identity.birth_date),
        coverage_start=event.coverage_start,
        coverage_end=event.coverage_end,
        stated_kpj=event.kpj,
        nik_kpj=nik_kpj,
        stated_kpj_known=stated_kpj_known,
        payers=[] if nik_kpj is None else ledger.payers_of(nik_kpj),
        today=context.today,
        behaviour=context.behaviour,
        attempt=event.attempt,
    )
    if isinstance(decision, Refusal):
        refused = RegistrationRejected(
            request_id=event.request_id,
            worker_id=event.worker_id,
            reason_code=decision.code,
            reason=decision.message,
            attempt=event.attempt,
            retryable=decision.retryable,
        )
        return refused, []
    registered_at = context.now
    latest = LatestPayer(event.worker_id, event.programme_code, event.coverage_end)
    continued = isinstance(decision, Continuation)
    facts: list[Fact] = []
    if isinstance(decision, Continuation):
        kpj = decision.kpj
        facts.append(Continued(nik, latest))
    else:
        kpj = ledger.take_kpj()
        facts.append(Issued(nik, kpj, registered_at, latest))
    payer = NewPayer(
        request_id=event.request_id,
        nik=nik,
        kpj=kpj,
        worker_id=event.worker_id,
        programme_code=event.programme_code,
        first_day=max(event.coverage_start, registered_at.astimezone(BPJS_TIMEZONE).date()),
        coverage_end=event.coverage_end,
        registered_at=registered_at,
        continued=continued,
    )
    facts.append(PayerAdded(payer))
    return _accepted(event, kpj, registered_at, continued), facts


def deregister(event: DeregistrationRequested, ledger: Ledger) -> tuple[DomainEvent, list[Fact]]:
    """Stop the programme's payments for the KPJ after the last covered day, or refuse."""
    decided = ledger.deregistrations.get(event.request_id)
    facts: list[Fact] = []
    if decided is None:
        stopped = any(True for _ in ledger.rows_of(event.kpj, event.programme_code))
        known = stopped or event.kpj in ledger.issued
        refusal = deregistration_refusal(stopped, event.kpj, event.programme_code, known)
        decided = Deregistration(
            request_id=event.request_id,
            kpj=event.kpj,
            worker_id=event.worker_id,
            programme_code=event.programme_code,
            effective_on=event.last_covered_day,
            reason=event.reason,
            outcome="confirmed" if refusal is None else "rejected",
            reason_code=None if refusal is None else refusal.code,
            refusal=None if refusal is None else refusal.message,
        )
        if stopped:
            facts.append(PayerStopped(event.kpj, event.programme_code, event.last_covered_day, event.reason))
        facts.append(DeregistrationDecided(decided))
    if decided.outcome == "confirmed":
        confirmed = DeregistrationConfirmed(
            request_id=decided.request_id,
            attempt=event.attempt,
            worker_id=decided.worker_id,
            kpj=decided.kpj,
            effective_on=decided.effective_on,
        )
        return confirmed, facts
    refused = DeregistrationRejected(
        request_id=decided.request_id,
        attempt=event.attempt,
        worker_id=decided.worker_id,
        kpj=decided.kpj,
        reason_code=decided.reason_code,
        reason=decided.refusal,
    )
    return refused, facts


def pay(event: PremiumPaymentRequested, ledger: Ledger, context: Context) -> tuple[DomainEvent, list[Fact]]:
    """Book a premium payment as a whole, or refuse it as a whole."""
    known = ledger.payments.get(event.payment_request_id)
    if known is not None:
        return payment_answer(known, event.attempt), []
    request = PaymentRequest(
        kpjs=tuple(event.kpjs),
        participants=event.participants,
        jkk_per_participant=event.jkk_per_participant,
        jkm_per_participant=event.jkm_per_participant,
        jkk_total=event.jkk_total,
        jkm_total=event.jkm_total,
        total=event.total,
    )
    listed = set(event.kpjs)
    registered = listed & ledger.issued
    paid = {kpj for kpj in listed if event.month in ledger.paid.get(kpj, ())}
    not_active = {
        kpj
        for kpj in listed
        if payment_stopped([r.ended_on for _, r in ledger.rows_of(kpj, event.programme_code)], event.month)
    }
    refusal = payment_refusal(
        request,
        listed - registered,
        paid,
        context.behaviour,
        transient_key=f"{event.payment_request_id}:{event.attempt}",
        not_active=not_active,
    )
    if refusal is not None and refusal.retryable:
        # Nothing is booked: the next attempt is decided afresh.
        refused = PremiumPaymentRejected(
            payment_request_id=event.payment_request_id,
            attempt=event.attempt,
            reason_code=refusal.code,
            reason=refusal.message,
            retryable=True,
        )
        return refused, []
    decided = Payment(
        payment_request_id=event.payment_request_id,
        outcome="rejected",
        kpjs=sorted(listed),
        month=event.month,
        participants=event.participants,
        total=event.total,
    )
    booked: tuple[str, ...] = ()
    if refusal is not None:
        concerned = (listed - registered) or not_active or paid
        decided = replace(decided, reason_code=refusal.code, reason=refusal.message, kpjs=sorted(concerned))
    else:
        decided = replace(
            decided, outcome="confirmed", payment_ref=payment_ref(ledger.take_receipt()), paid_at=context.now
        )
        booked = tuple(sorted(listed))
    return payment_answer(decided, event.attempt), [PaymentDecided(decided, booked)]


def payment_answer(decided: Payment, attempt: int) -> DomainEvent:
    """The answer to an attempt of a payment request BPJS decided."""
    if decided.outcome == "confirmed":
        return PremiumPaymentConfirmed(
            payment_request_id=decided.payment_request_id,
            attempt=attempt,
            payment_ref=decided.payment_ref,
            paid_at=decided.paid_at,
            participants=decided.participants,
            total=decided.total,
        )
    return PremiumPaymentRejected(
        payment_request_id=decided.payment_request_id,
        attempt=attempt,
        reason_code=decided.reason_code,
        reason=decided.reason,
        retryable=False,
        kpjs=list(decided.kpjs),
    )


def _accepted(
    event: RegistrationRequested, kpj: str, registered_at: datetime, continued: bool
) -> DomainEvent:
    return RegistrationAccepted(
        request_id=event.request_id,
        worker_id=event.worker_id,
        kpj=kpj,
        registered_at=registered_at,
        attempt=event.attempt,
        continued=continued,
    )
