"""Allocation's reactions: seat or waitlist validated workers, release seats, promote from the waitlist."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.allocation import QuotaAssigned, QuotaReleased, QuotaWaitlisted
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import WorkerIdentity
from libs.events.contracts.enrollment import EnrollmentFailed
from libs.events.contracts.registry import NominationWithdrawn, WorkerValidated
from libs.messaging.consumer import HandlerContext
from services.allocation.adapters.tables import assignments, programmes
from services.allocation.application.quota_stream import QuotaStates, stream_of
from services.allocation.domain.quota import ValidatedWorker, decide_release, decide_validated
from services.allocation.domain.quota_events import Assign, QuotaEvent, Release, ReleaseReason, Waitlist
from services.allocation.domain.sector import Sector

# A worker found through DTKS has no P3KE desil: they rank after every P3KE decile.
DTKS_RANK = 10


class ProgrammeNotDefined(LookupError):
    """A worker was validated for a programme allocation has never defined."""


def nomination_seq(event: WorkerValidated) -> int:
    """Nomination order as microseconds since the epoch (ties broken by worker id in the domain)."""
    return int(event.nominated_at.timestamp() * 1_000_000)


class AllocationHandler:
    """Turns registry and enrollment events into quota decisions on the programme's stream."""

    interested = frozenset(
        {WorkerValidated.event_type, NominationWithdrawn.event_type, EnrollmentFailed.event_type}
    )

    def __init__(self, states: QuotaStates) -> None:
        self.states = states

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, WorkerValidated):
            await self._validated(ctx, event)
        elif isinstance(event, NominationWithdrawn):
            reason = ReleaseReason.DIED if event.reason == "died" else ReleaseReason.WITHDRAWN
            await self._release(ctx, event.programme_code, event.worker_id, reason)
        elif isinstance(event, EnrollmentFailed):
            await self._release(ctx, event.programme_code, event.worker_id, ReleaseReason.ENROLLMENT_FAILED)

    async def _validated(self, ctx: HandlerContext, event: WorkerValidated) -> None:
        programme = await _programme(ctx.conn, event.programme_code)
        state, version = await self.states.load(ctx.conn, event.programme_code)
        worker = ValidatedWorker(
            worker_id=event.worker_id,
            regency=event.regency_code,
            sector=Sector(event.sector),
            desil=event.decile or DTKS_RANK,
            nomination_seq=nomination_seq(event),
        )
        decisions = decide_validated(state, worker)
        facts = {event.worker_id: _facts_of(event)}
        await self._record(ctx, programme, state, version, decisions, facts)

    async def _release(
        self, ctx: HandlerContext, programme_code: str, worker_id: str, reason: ReleaseReason
    ) -> None:
        programme = await _programme(ctx.conn, programme_code)
        state, version = await self.states.load(ctx.conn, programme_code)
        decisions = decide_release(state, worker_id, reason)
        await self._record(ctx, programme, state, version, decisions, {})

    async def _record(
        self,
        ctx: HandlerContext,
        programme: Any,
        state: Any,
        version: int,
        decisions: tuple[QuotaEvent, ...],
        facts: dict[str, dict[str, Any]],
    ) -> None:
        if not decisions:
            return  # already decided (a replayed or repeated event): nothing new to say
        about_workers = [d for d in decisions if isinstance(d, Assign | Waitlist | Release)]
        wanted = {d.worker_id for d in about_workers} - facts.keys()
        facts.update(await _stored_facts(ctx.conn, programme.programme_code, wanted))
        wire = [_to_wire(d, programme, facts[d.worker_id]) for d in about_workers]
        await ctx.store.append(
            ctx.conn,
            stream_of(programme.programme_code),
            wire,
            expected_version=version,
            correlation_id=ctx.envelope.correlation_id,
            causation_id=ctx.envelope.event_id,
        )
        await self.states.remember(ctx.conn, programme.programme_code, state, decisions)


async def _programme(conn: AsyncConnection, code: str) -> Any:
    row = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
    if row is None:
        raise ProgrammeNotDefined(code)
    return row


def _facts_of(event: WorkerValidated) -> dict[str, Any]:
    return {
        "nomination_id": event.nomination_id,
        "regency_code": event.regency_code,
        "sector": event.sector,
        "decile": event.decile,
        "identity": event.identity,
    }


async def _stored_facts(
    conn: AsyncConnection, programme_code: str, worker_ids: set[str]
) -> dict[str, dict[str, Any]]:
    if not worker_ids:
        return {}
    rows = await conn.execute(
        select(assignments).where(
            assignments.c.programme_code == programme_code, assignments.c.worker_id.in_(worker_ids)
        )
    )
    return {
        r.worker_id: {
            "nomination_id": r.nomination_id,
            "regency_code": r.regency_code,
            "sector": r.sector,
            "decile": r.decile,
            "identity": WorkerIdentity.model_validate(r.identity),
        }
        for r in rows
    }


def _to_wire(decision: Assign | Waitlist | Release, programme: Any, facts: dict[str, Any]) -> DomainEvent:
    code = programme.programme_code
    if isinstance(decision, Assign):
        return QuotaAssigned(
            worker_id=decision.worker_id,
            nomination_id=facts["nomination_id"],
            programme_code=code,
            funder=programme.funder,
            regency_code=decision.regency,
            sector=decision.sector.value,
            decile=facts["decile"],
            identity=facts["identity"],
            coverage_start=programme.coverage_start,
            coverage_end=programme.coverage_end,
            premium_per_month=programme.cost_per_worker // programme.definition["months"],
            requires_decree=programme.requires_decree,
            promoted=decision.promoted,
        )
    if isinstance(decision, Waitlist):
        return QuotaWaitlisted(
            worker_id=decision.worker_id,
            nomination_id=facts["nomination_id"],
            programme_code=code,
            regency_code=decision.regency,
            sector=decision.sector.value,
            decile=decision.desil,
            identity=facts["identity"],
            nomination_seq=decision.nomination_seq,
            decree_round=decision.decree_round,
            position=decision.position,
            reason=decision.reason.value,
        )
    return QuotaReleased(
        worker_id=decision.worker_id,
        programme_code=code,
        regency_code=facts["regency_code"],
        sector=facts["sector"],
        reason=decision.reason.value,
    )
