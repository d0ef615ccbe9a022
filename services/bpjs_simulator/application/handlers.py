"""The simulator's reaction to Lindung's requests: decide at once, as BPJS would, once per attempt;
hold the answer until it is due (delays, repeats, outages: see `release.py`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Sequence, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

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
from libs.messaging.consumer import HandlerContext
from services.bpjs_simulator.adapters.tables import (
    SCHEMA,
    answered,
    deregistrations,
    held_messages,
    paid_months,
    participants,
    payers,
    payments,
    payments_seq,
)
from services.bpjs_simulator.application.release import OutageState, real_now
from services.bpjs_simulator.domain.insurer import (
    Continuation,
    InsurerBehaviour,
    Payer,
    PaymentRequest,
    Refusal,
    decide_registration,
    deliveries,
    kpj_number,
    payment_ref,
    payment_refusal,
    payment_stopped,
)

log = logging.getLogger(__name__)

participants_seq = Sequence("participants_seq", schema=SCHEMA)
# BPJS dates its registrations and stops in Western Indonesia time.
BPJS_TIMEZONE = ZoneInfo("Asia/Jakarta")

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
    """Registers participants (or continues them under a new payer), stops payers on
    deregistration, books premium payments, and answers on the results topic."""

    interested = frozenset(
        {
            RegistrationRequested.event_type,
            DeregistrationRequested.event_type,
            PremiumPaymentRequested.event_type,
        }
    )

    def __init__(self, behaviour: InsurerBehaviour, now: Now = real_now) -> None:
        self.behaviour = behaviour
        self.now = now  # the simulated calendar (registered_at, paid_at); delays use real time
        self.outage = OutageState()  # shared with the HTTP control routes and background loops

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, RegistrationRequested):
            kind, request_id, attempt = "registration", event.request_id, event.attempt
        elif isinstance(event, DeregistrationRequested):
            kind, request_id, attempt = "deregistration", event.request_id, event.attempt
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
        elif isinstance(event, DeregistrationRequested):
            answer = await self._deregister(ctx.conn, event)
        else:
            answer = await self._pay(ctx.conn, event)
        decisions: dict[type[DomainEvent], str] = {
            RegistrationAccepted: "accepted",
            DeregistrationConfirmed: "confirmed",
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

    def today(self) -> date:
        return self.now().astimezone(BPJS_TIMEZONE).date()

    async def _register(self, conn: AsyncConnection, event: RegistrationRequested) -> DomainEvent:
        answered_before = (
            await conn.execute(select(payers).where(payers.c.request_id == event.request_id))
        ).first()
        if answered_before is not None:
            # A re-sent request gets the same KPJ, the same instant and the same `continued`.
            return _accepted(
                event, answered_before.kpj, answered_before.registered_at, answered_before.continued
            )
        identity = event.identity
        # Locked: two payers for one person are decided one after the other.
        person = (
            await conn.execute(
                select(participants).where(participants.c.nik == identity.nik).with_for_update()
            )
        ).first()
        nik_kpj = None if person is None else str(person.kpj)
        stated_kpj_known = event.kpj is not None and (
            event.kpj == nik_kpj
            or (await conn.execute(select(participants.c.seq).where(participants.c.kpj == event.kpj))).first()
            is not None
        )
        decision = decide_registration(
            nik=identity.nik,
            birth_date=date.fromisoformat(identity.birth_date),
            coverage_start=event.coverage_start,
            coverage_end=event.coverage_end,
            stated_kpj=event.kpj,
            nik_kpj=nik_kpj,
            stated_kpj_known=stated_kpj_known,
            payers=[] if nik_kpj is None else await _payers_of(conn, nik_kpj),
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
        latest_payer = {
            "worker_id": event.worker_id,
            "programme_code": event.programme_code,
            "coverage_end": event.coverage_end,
        }
        if isinstance(decision, Continuation):
            kpj = decision.kpj
            await conn.execute(
                update(participants).where(participants.c.nik == identity.nik).values(latest_payer)
            )
        else:
            kpj = await _register_new(conn, identity.nik, registered_at, latest_payer)
        await conn.execute(
            insert(payers).values(
                request_id=event.request_id,
                nik=identity.nik,
                kpj=kpj,
                worker_id=event.worker_id,
                programme_code=event.programme_code,
                first_day=max(event.coverage_start, registered_at.astimezone(BPJS_TIMEZONE).date()),
                coverage_end=event.coverage_end,
                registered_at=registered_at,
                continued=isinstance(decision, Continuation),
            )
        )
        return _accepted(event, kpj, registered_at, isinstance(decision, Continuation))

    async def _deregister(self, conn: AsyncConnection, event: DeregistrationRequested) -> DomainEvent:
        this_request = deregistrations.c.request_id == event.request_id
        decided = (await conn.execute(select(deregistrations).where(this_request))).first()
        if decided is None:
            await conn.execute(insert(deregistrations).values(await _stop_payer(conn, event)))
            decided = (await conn.execute(select(deregistrations).where(this_request))).one()
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
        stops: dict[str, list[date | None]] = defaultdict(list)
        for kpj, ended_on in await conn.execute(
            select(payers.c.kpj, payers.c.ended_on).where(
                payers.c.programme_code == event.programme_code, payers.c.kpj.in_(listed)
            )
        ):
            stops[kpj].append(ended_on)
        not_active = {kpj for kpj, ends in stops.items() if payment_stopped(ends, event.month)}
        refusal = payment_refusal(
            request,
            listed - registered,
            paid,
            self.behaviour,
            transient_key=f"{event.payment_request_id}:{event.attempt}",
            not_active=not_active,
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
            concerned = (listed - registered) or not_active or paid
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


async def _stop_payer(conn: AsyncConnection, event: DeregistrationRequested) -> dict[str, Any]:
    """End the programme's payment for the KPJ after the last covered day (the earliest day any
    deregistration named stands); the decision, as a `deregistrations` row."""
    decision: dict[str, Any] = {
        "request_id": event.request_id,
        "kpj": event.kpj,
        "worker_id": event.worker_id,
        "programme_code": event.programme_code,
        "effective_on": event.last_covered_day,
        "reason": event.reason,
    }
    stopped = await conn.execute(
        update(payers)
        .where(payers.c.kpj == event.kpj, payers.c.programme_code == event.programme_code)
        .values(
            # PostgreSQL's LEAST skips NULL: a payer not ended yet ends on the day named.
            ended_on=func.least(payers.c.ended_on, event.last_covered_day),
            end_reason=func.coalesce(payers.c.end_reason, event.reason),
        )
    )
    if stopped.rowcount:
        return decision | {"outcome": "confirmed"}
    known = (await conn.execute(select(participants.c.seq).where(participants.c.kpj == event.kpj))).first()
    refusal = (
        f"KPJ {event.kpj} tidak dibayar oleh program {event.programme_code}; tidak ada pembayaran "
        "yang dapat dihentikan."
        if known
        else f"KPJ {event.kpj} tidak terdaftar di BPJS Ketenagakerjaan."
    )
    return decision | {"outcome": "rejected", "reason_code": "UNKNOWN_PARTICIPANT", "refusal": refusal}


async def _register_new(
    conn: AsyncConnection, nik: str, registered_at: datetime, payer: dict[str, Any]
) -> str:
    """Issue the next KPJ to a person BPJS did not know, passing over any KPJ a preloaded
    participant holds already; return it.

    Two requests for one NIK racing on two partitions: the unique NIK decides, the loser's
    transaction fails and is retried alone, then finds the participant."""
    while True:
        sequence = int((await conn.execute(select(participants_seq.next_value()))).scalar_one())
        issued = await conn.execute(
            insert(participants)
            .values(seq=sequence, nik=nik, kpj=kpj_number(sequence), registered_at=registered_at, **payer)
            .on_conflict_do_nothing(index_elements=["kpj"])
            .returning(participants.c.kpj)
        )
        kpj = issued.scalar_one_or_none()
        if kpj is not None:
            return str(kpj)


async def _payers_of(conn: AsyncConnection, kpj: str) -> list[Payer]:
    """Every programme that paid or pays for the participant holding `kpj`, with the months paid
    for them (by anyone: a BPU membership lapses when nobody pays)."""
    months = frozenset(
        (await conn.execute(select(paid_months.c.month).where(paid_months.c.kpj == kpj))).scalars()
    )
    rows = await conn.execute(select(payers).where(payers.c.kpj == kpj))
    return [
        Payer(
            programme_code=r.programme_code,
            first_day=r.first_day,
            coverage_end=r.coverage_end,
            ended_on=r.ended_on,
            paid_months=months,
        )
        for r in rows
    ]
