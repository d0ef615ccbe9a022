"""The simulator's reaction to Lindung's requests: decide at once, as BPJS would, once per attempt;
hold the answer until it is due (delays, repeats, outages: see `release.py`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Sequence, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    PremiumPaymentRequested,
    RegistrationAccepted,
    RegistrationRejected,
    RegistrationRequested,
)
from libs.messaging.consumer import HandlerContext
from services.bpjs_simulator.adapters.tables import (
    SCHEMA,
    answered,
    held_messages,
    paid_months,
    participants,
    payments,
    payments_seq,
)
from services.bpjs_simulator.application.release import OutageState, real_now
from services.bpjs_simulator.domain.insurer import (
    InsurerBehaviour,
    PaymentRequest,
    deliveries,
    kpj_number,
    payment_ref,
    payment_refusal,
    registration_refusal,
)

log = logging.getLogger(__name__)

participants_seq = Sequence("participants_seq", schema=SCHEMA)

Now = Callable[[], datetime]


async def hold(
    conn: AsyncConnection,
    behaviour: InsurerBehaviour,
    *,
    stream: str,
    answer: DomainEvent,
    delivery_key: str,
    correlation_id: Any,
    causation_id: Any,
) -> None:
    """Queue `answer` for release after its seeded delay (twice when the simulator repeats itself)."""
    now = real_now()
    rows = [
        {
            "stream": stream,
            "event_type": answer.event_type,
            "payload": answer.model_dump(mode="json"),
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "copy": sending.copy,
            "late": int(sending.late),
            "due_at": now + timedelta(milliseconds=sending.delay_ms),
        }
        for sending in deliveries(behaviour, delivery_key)
    ]
    await conn.execute(insert(held_messages), rows)


class InsurerHandler:
    """Registers participants, books premium payments, and answers on the results topic."""

    interested = frozenset({RegistrationRequested.event_type, PremiumPaymentRequested.event_type})

    def __init__(self, behaviour: InsurerBehaviour, now: Now = real_now) -> None:
        self.behaviour = behaviour
        self.now = now  # the simulated calendar (registered_at, paid_at); delays use real time
        self.outage = OutageState()  # shared with the HTTP control routes and background loops

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, RegistrationRequested):
            kind, request_id, attempt = "registration", event.request_id, event.attempt
        elif isinstance(event, PremiumPaymentRequested):
            kind, request_id, attempt = "payment", event.payment_request_id, event.attempt
        else:
            return
        seen = await ctx.conn.execute(
            select(answered.c.decision).where(
                answered.c.kind == kind, answered.c.request_id == request_id, answered.c.attempt == attempt
            )
        )
        if seen.first() is not None:
            return  # this attempt was answered already (the request came twice): answer once
        answer: DomainEvent
        if isinstance(event, RegistrationRequested):
            answer = await self._register(ctx.conn, event)
        else:
            answer = await self._pay(ctx.conn, event)
        decisions: dict[type[DomainEvent], str] = {
            RegistrationAccepted: "accepted",
            PremiumPaymentConfirmed: "confirmed",
        }
        decision = decisions.get(type(answer), "rejected")
        # Two deliveries of one attempt racing: the primary key fails one transaction, which is
        # retried alone and then finds the attempt answered.
        await ctx.conn.execute(
            insert(answered).values(
                kind=kind,
                request_id=request_id,
                attempt=attempt,
                decision=decision,
                reason_code=getattr(answer, "reason_code", None),
            )
        )
        await hold(
            ctx.conn,
            self.behaviour,
            stream=f"bpjs-{kind}-{request_id}",
            answer=answer,
            delivery_key=f"{kind}:{request_id}:{attempt}",
            correlation_id=ctx.envelope.correlation_id,
            causation_id=ctx.envelope.event_id,
        )

    async def _register(self, conn: AsyncConnection, event: RegistrationRequested) -> DomainEvent:
        identity = event.identity
        existing = (
            await conn.execute(select(participants).where(participants.c.nik == identity.nik))
        ).first()
        if existing is not None:
            if existing.worker_id == event.worker_id and existing.programme_code == event.programme_code:
                # A re-sent request for the same participant gets the same KPJ, as BPJS would.
                return RegistrationAccepted(
                    request_id=event.request_id,
                    worker_id=event.worker_id,
                    kpj=existing.kpj,
                    registered_at=existing.registered_at,
                    attempt=event.attempt,
                )
            return RegistrationRejected(
                request_id=event.request_id,
                worker_id=event.worker_id,
                reason_code="ALREADY_REGISTERED",
                reason=f"Peserta sudah terdaftar aktif (program {existing.programme_code}).",
                attempt=event.attempt,
            )
        refusal = registration_refusal(
            identity.nik,
            date.fromisoformat(identity.birth_date),
            event.coverage_start,
            self.behaviour,
            attempt=event.attempt,
        )
        if refusal is not None:
            return RegistrationRejected(
                request_id=event.request_id,
                worker_id=event.worker_id,
                reason_code=refusal.code,
                reason=refusal.message,
                attempt=event.attempt,
                retryable=refusal.retryable,
            )
        registered_at = self.now()
        # Two requests for one NIK racing on two partitions: the unique NIK decides, the loser's
        # transaction fails and is retried alone, then finds the participant above.
        sequence = (await conn.execute(select(participants_seq.next_value()))).scalar_one()
        kpj = kpj_number(int(sequence))
        await conn.execute(
            insert(participants).values(
                seq=sequence,
                nik=identity.nik,
                kpj=kpj,
                worker_id=event.worker_id,
                programme_code=event.programme_code,
                coverage_end=event.coverage_end,
                registered_at=registered_at,
            )
        )
        return RegistrationAccepted(
            request_id=event.request_id,
            worker_id=event.worker_id,
            kpj=kpj,
            registered_at=registered_at,
            attempt=event.attempt,
        )

    async def _pay(self, conn: AsyncConnection, event: PremiumPaymentRequested) -> DomainEvent:
        known = (
            await conn.execute(
                select(payments).where(payments.c.payment_request_id == event.payment_request_id)
            )
        ).first()
        if known is not None:
            return _answer_of(known, event.attempt)
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
        registered = set(
            (await conn.execute(select(participants.c.kpj).where(participants.c.kpj.in_(listed)))).scalars()
        )
        paid = set(
            (
                await conn.execute(
                    select(paid_months.c.kpj).where(
                        paid_months.c.month == event.month, paid_months.c.kpj.in_(listed)
                    )
                )
            ).scalars()
        )
        refusal = payment_refusal(
            request,
            listed - registered,
            paid,
            self.behaviour,
            transient_key=f"{event.payment_request_id}:{event.attempt}",
        )
        row: dict[str, Any] = {
            "payment_request_id": event.payment_request_id,
            "kpjs": sorted(listed),
            "month": event.month,
            "participants": event.participants,
            "total": event.total,
        }
        if refusal is not None:
            if refusal.retryable:
                # Nothing is booked: the next attempt is decided afresh.
                return PremiumPaymentRejected(
                    payment_request_id=event.payment_request_id,
                    attempt=event.attempt,
                    reason_code=refusal.code,
                    reason=refusal.message,
                    retryable=True,
                )
            concerned = (listed - registered) or paid
            row |= {
                "outcome": "rejected",
                "reason_code": refusal.code,
                "reason": refusal.message,
                "kpjs": sorted(concerned),
            }
        else:
            sequence = (await conn.execute(select(payments_seq.next_value()))).scalar_one()
            row |= {"outcome": "confirmed", "payment_ref": payment_ref(int(sequence)), "paid_at": self.now()}
            await conn.execute(
                insert(paid_months),
                [
                    {"kpj": k, "month": event.month, "payment_request_id": event.payment_request_id}
                    for k in listed
                ],
            )
        await conn.execute(insert(payments).values(row))
        stored = (
            await conn.execute(
                select(payments).where(payments.c.payment_request_id == event.payment_request_id)
            )
        ).one()
        return _answer_of(stored, event.attempt)


def _answer_of(row: Any, attempt: int) -> DomainEvent:
    if row.outcome == "confirmed":
        return PremiumPaymentConfirmed(
            payment_request_id=row.payment_request_id,
            attempt=attempt,
            payment_ref=row.payment_ref,
            paid_at=row.paid_at,
            participants=row.participants,
            total=row.total,
        )
    return PremiumPaymentRejected(
        payment_request_id=row.payment_request_id,
        attempt=attempt,
        reason_code=row.reason_code,
        reason=row.reason,
        retryable=False,
        kpjs=list(row.kpjs),
    )
