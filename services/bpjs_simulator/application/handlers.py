"""The simulator's reaction to Lindung's requests: decide at once, as BPJS would, once per attempt;
hold the answer until it is due (delays, repeats, outages: see `release.py`).

The rules are the domain's (domain/insurer.py, domain/payments.py); what the insurer remembers
(participants, payers, payments, deregistrations) is read and written through the InsurerBook
port (application/ports.py), in the consumer's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
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
from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed
from services.bpjs_simulator.application.ports import (
    Deregistration,
    HeldAnswer,
    InsurerBook,
    LatestPayer,
    NewPayer,
    Payment,
)
from services.bpjs_simulator.domain.answers import answer_stream, deliveries
from services.bpjs_simulator.domain.insurer import (
    Continuation,
    InsurerBehaviour,
    Refusal,
    decide_registration,
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

Now = Callable[[], datetime]
BookOf = Callable[[StoreTransaction], InsurerBook]

# What each answer says of its request, as the `answered` log keeps it.
_DECISIONS: dict[type[DomainEvent], str] = {
    RegistrationAccepted: "accepted",
    DeregistrationConfirmed: "confirmed",
    PremiumPaymentConfirmed: "confirmed",
}


class InsurerHandler:
    """Registers participants (or continues them under a new payer), stops payers on
    deregistration, books premium payments, and holds the answers for the results topic.

    `now` is the simulated calendar (registered_at, paid_at); `real_now` times the delays."""

    interested = frozenset(
        {
            RegistrationRequested.event_type,
            DeregistrationRequested.event_type,
            PremiumPaymentRequested.event_type,
        }
    )

    def __init__(self, behaviour: InsurerBehaviour, book_of: BookOf, *, now: Now, real_now: Now) -> None:
        self.behaviour = behaviour
        self.book_of = book_of
        self.now = now
        self.real_now = real_now

    def today(self) -> date:
        """Today in BPJS's calendar."""
        return self.now().astimezone(BPJS_TIMEZONE).date()

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        """Answer every request of a consumed batch, in order, in the consumer's transaction."""
        book = self.book_of(tx)
        for item in items:
            await self.answer(book, item.clear, item.event)

    async def answer(self, book: InsurerBook, envelope: Envelope, event: DomainEvent) -> None:
        """Decide one request attempt (once: a repeated delivery is answered once) and hold the
        answer."""
        if isinstance(event, RegistrationRequested):
            kind, request_id, attempt = "registration", event.request_id, event.attempt
        elif isinstance(event, DeregistrationRequested):
            kind, request_id, attempt = "deregistration", event.request_id, event.attempt
        elif isinstance(event, PremiumPaymentRequested):
            kind, request_id, attempt = "payment", event.payment_request_id, event.attempt
        else:
            return
        if await book.answered(kind, request_id, attempt):
            return  # this attempt was answered already (the request came twice): answer once
        answer: DomainEvent
        if isinstance(event, RegistrationRequested):
            answer = await self.register(book, event)
        elif isinstance(event, DeregistrationRequested):
            answer = await self.deregister(book, event)
        else:
            answer = await self.pay(book, event)
        # Two deliveries of one attempt racing: the log's key fails one transaction, which is
        # retried alone and then finds the attempt answered.
        decision = _DECISIONS.get(type(answer), "rejected")
        await book.mark_answered(kind, request_id, attempt, decision, getattr(answer, "reason_code", None))
        sent_at = self.real_now()
        await book.hold(
            [
                HeldAnswer(
                    stream=answer_stream(kind, request_id),
                    event_type=answer.event_type,
                    payload=answer.model_dump(mode="json"),
                    correlation_id=envelope.correlation_id,
                    causation_id=envelope.event_id,
                    due_at=sent_at + timedelta(milliseconds=sending.delay_ms),
                    copy=sending.copy,
                    late=sending.late,
                )
                for sending in deliveries(self.behaviour, f"{kind}:{request_id}:{attempt}")
            ]
        )

    async def register(self, book: InsurerBook, event: RegistrationRequested) -> DomainEvent:
        """Accept (a new participant, or a known one under a new payer) or refuse a registration."""
        before = await book.registered(event.request_id)
        if before is not None:
            # A re-sent request gets the same KPJ, the same instant and the same `continued`.
            return _accepted(event, before.kpj, before.registered_at, before.continued)
        identity = event.identity
        nik_kpj = await book.kpj_of(identity.nik)
        stated_kpj_known = event.kpj is not None and (
            event.kpj == nik_kpj or await book.kpj_issued(event.kpj)
        )
        decision = decide_registration(
            nik=identity.nik,
            birth_date=date.fromisoformat(identity.birth_date),
            coverage_start=event.coverage_start,
            coverage_end=event.coverage_end,
            stated_kpj=event.kpj,
            nik_kpj=nik_kpj,
            stated_kpj_known=stated_kpj_known,
            payers=[] if nik_kpj is None else await book.payers_of(nik_kpj),
            today=self.today(),
            behaviour=self.behaviour,
            attempt=event.attempt,
        )
        if isinstance(decision, Refusal):
            return RegistrationRejected(
                request_id=event.request_id,
                worker_id=event.worker_id,
                reason_code=decision.code,
                reason=decision.message,
                attempt=event.attempt,
                retryable=decision.retryable,
            )
        registered_at = self.now()
        latest = LatestPayer(event.worker_id, event.programme_code, event.coverage_end)
        continued = isinstance(decision, Continuation)
        if isinstance(decision, Continuation):
            kpj = decision.kpj
            await book.continue_participant(identity.nik, latest)
        else:
            kpj = await book.register_new(identity.nik, registered_at, latest)
        await book.add_payer(
            NewPayer(
                request_id=event.request_id,
                nik=identity.nik,
                kpj=kpj,
                worker_id=event.worker_id,
                programme_code=event.programme_code,
                first_day=max(event.coverage_start, registered_at.astimezone(BPJS_TIMEZONE).date()),
                coverage_end=event.coverage_end,
                registered_at=registered_at,
                continued=continued,
            )
        )
        return _accepted(event, kpj, registered_at, continued)

    async def deregister(self, book: InsurerBook, event: DeregistrationRequested) -> DomainEvent:
        """Stop the programme's payments for the KPJ after the last covered day, or refuse."""
        decided = await book.deregistration(event.request_id)
        if decided is None:
            stopped = await book.stop_payer(
                event.kpj, event.programme_code, event.last_covered_day, event.reason
            )
            known = stopped or await book.kpj_issued(event.kpj)
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
            await book.record_deregistration(decided)
        if decided.outcome == "confirmed":
            return DeregistrationConfirmed(
                request_id=decided.request_id,
                attempt=event.attempt,
                worker_id=decided.worker_id,
                kpj=decided.kpj,
                effective_on=decided.effective_on,
            )
        return DeregistrationRejected(
            request_id=decided.request_id,
            attempt=event.attempt,
            worker_id=decided.worker_id,
            kpj=decided.kpj,
            reason_code=decided.reason_code,
            reason=decided.refusal,
        )

    async def pay(self, book: InsurerBook, event: PremiumPaymentRequested) -> DomainEvent:
        """Book a premium payment as a whole, or refuse it as a whole."""
        known = await book.payment(event.payment_request_id)
        if known is not None:
            return _payment_answer(known, event.attempt)
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
        registered = await book.participants_among(listed)
        paid = await book.paid_among(event.month, listed)
        stops = await book.payer_ends(event.programme_code, listed)
        not_active = {kpj for kpj, ends in stops.items() if payment_stopped(ends, event.month)}
        refusal = payment_refusal(
            request,
            listed - registered,
            paid,
            self.behaviour,
            transient_key=f"{event.payment_request_id}:{event.attempt}",
            not_active=not_active,
        )
        if refusal is not None and refusal.retryable:
            # Nothing is booked: the next attempt is decided afresh.
            return PremiumPaymentRejected(
                payment_request_id=event.payment_request_id,
                attempt=event.attempt,
                reason_code=refusal.code,
                reason=refusal.message,
                retryable=True,
            )
        decided = Payment(
            payment_request_id=event.payment_request_id,
            outcome="rejected",
            kpjs=sorted(listed),
            month=event.month,
            participants=event.participants,
            total=event.total,
        )
        if refusal is not None:
            concerned = (listed - registered) or not_active or paid
            decided = replace(
                decided, reason_code=refusal.code, reason=refusal.message, kpjs=sorted(concerned)
            )
        else:
            number = await book.next_payment_number()
            decided = replace(
                decided, outcome="confirmed", payment_ref=payment_ref(number), paid_at=self.now()
            )
            await book.book_months(listed, event.month, event.payment_request_id)
        return _payment_answer(await book.record_payment(decided), event.attempt)


def _payment_answer(decided: Payment, attempt: int) -> DomainEvent:
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
