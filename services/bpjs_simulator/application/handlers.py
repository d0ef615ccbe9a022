"""The simulator's reaction to registration requests: answer as BPJS would, once per request."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Sequence, select
from sqlalchemy.dialects.postgresql import insert

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import RegistrationAccepted, RegistrationRejected, RegistrationRequested
from libs.events.envelope import utcnow
from libs.messaging.consumer import HandlerContext
from services.bpjs_simulator.adapters.tables import SCHEMA, participants
from services.bpjs_simulator.domain.insurer import InsurerBehaviour, kpj_number, registration_refusal

participants_seq = Sequence("participants_seq", schema=SCHEMA)


class InsurerHandler:
    """Registers participants and answers on the results topic."""

    interested = frozenset({RegistrationRequested.event_type})

    def __init__(self, behaviour: InsurerBehaviour) -> None:
        self.behaviour = behaviour

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        assert isinstance(event, RegistrationRequested)
        stream = f"bpjs-request-{event.request_id}-{event.attempt}"
        version, _ = await ctx.store.head(ctx.conn, stream)
        if version > 0:
            return  # this attempt was answered already
        answer = await self._decide(ctx, event)
        await ctx.store.append(
            ctx.conn,
            stream,
            [answer],
            expected_version=0,
            correlation_id=ctx.envelope.correlation_id,
            causation_id=ctx.envelope.event_id,
        )

    async def _decide(self, ctx: HandlerContext, event: RegistrationRequested) -> DomainEvent:
        identity = event.identity
        existing = (
            await ctx.conn.execute(select(participants).where(participants.c.nik == identity.nik))
        ).first()
        if existing is not None:
            if existing.worker_id == event.worker_id and existing.programme_code == event.programme_code:
                # A retried request for the same participant gets the same KPJ, as BPJS would.
                return RegistrationAccepted(
                    request_id=event.request_id,
                    worker_id=event.worker_id,
                    kpj=existing.kpj,
                    registered_at=utcnow(),
                )
            return RegistrationRejected(
                request_id=event.request_id,
                worker_id=event.worker_id,
                reason_code="ALREADY_REGISTERED",
                reason=f"Peserta sudah terdaftar aktif (program {existing.programme_code}).",
            )
        refusal = registration_refusal(
            identity.nik, date.fromisoformat(identity.birth_date), event.coverage_start, self.behaviour
        )
        if refusal is not None:
            code, message = refusal
            return RegistrationRejected(
                request_id=event.request_id,
                worker_id=event.worker_id,
                reason_code=code,
                reason=message,
            )
        sequence = (await ctx.conn.execute(select(participants_seq.next_value()))).scalar_one()
        kpj = kpj_number(int(sequence))
        await ctx.conn.execute(
            insert(participants).values(
                seq=sequence,
                nik=identity.nik,
                kpj=kpj,
                worker_id=event.worker_id,
                programme_code=event.programme_code,
                coverage_end=event.coverage_end,
                registered_at=utcnow(),
            )
        )
        return RegistrationAccepted(
            request_id=event.request_id, worker_id=event.worker_id, kpj=kpj, registered_at=utcnow()
        )
