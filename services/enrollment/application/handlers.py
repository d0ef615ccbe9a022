"""Enrollment's reactions: ask BPJS to register assigned workers, record BPJS's answers once."""

from __future__ import annotations

from libs.events import decode
from libs.events.contracts.allocation import AssignmentDecreed, QuotaAssigned
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import RegistrationAccepted, RegistrationRejected, RegistrationRequested
from libs.events.contracts.enrollment import EnrolledAtBPJS, EnrollmentFailed
from libs.messaging.consumer import HandlerContext

TERMINAL = frozenset({EnrolledAtBPJS.event_type, EnrollmentFailed.event_type})


def registration_stream(worker_id: str, programme_code: str) -> str:
    """One stream per worker and programme: at most one registration each."""
    return f"registration-{worker_id}:{programme_code}"


def request_id_of(worker_id: str, programme_code: str) -> str:
    """The id BPJS echoes back; it names the registration stream."""
    return f"{worker_id}:{programme_code}"


class EnrollmentHandler:
    """Registration requests on assignment (or decree); outcomes on BPJS results."""

    interested = frozenset(
        {
            QuotaAssigned.event_type,
            AssignmentDecreed.event_type,
            RegistrationAccepted.event_type,
            RegistrationRejected.event_type,
        }
    )

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, QuotaAssigned):
            if not event.requires_decree:
                await self._request(ctx, event)
        elif isinstance(event, AssignmentDecreed):
            await self._request(ctx, event)
        elif isinstance(event, RegistrationAccepted | RegistrationRejected):
            await self._answer(ctx, event)

    async def _request(self, ctx: HandlerContext, event: QuotaAssigned | AssignmentDecreed) -> None:
        stream = registration_stream(event.worker_id, event.programme_code)
        version, _ = await ctx.store.head(ctx.conn, stream)
        if version > 0:
            return  # already requested: a replayed or repeated assignment asks BPJS nothing new
        request = RegistrationRequested(
            request_id=request_id_of(event.worker_id, event.programme_code),
            attempt=1,
            worker_id=event.worker_id,
            programme_code=event.programme_code,
            identity=event.identity,
            funder=event.funder,
            regency_code=event.regency_code,
            sector=event.sector,
            coverage_start=event.coverage_start,
            coverage_end=event.coverage_end,
        )
        await ctx.store.append(
            ctx.conn,
            stream,
            [request],
            expected_version=0,
            correlation_id=ctx.envelope.correlation_id,
            causation_id=ctx.envelope.event_id,
        )

    async def _answer(self, ctx: HandlerContext, event: RegistrationAccepted | RegistrationRejected) -> None:
        stream = f"registration-{event.request_id}"
        history = await ctx.store.load(ctx.conn, stream)
        if not history:
            raise LookupError(f"BPJS answered request {event.request_id} that Lindung never sent")
        if any(e.event_type in TERMINAL for e in history):
            return  # BPJS repeated itself, or an older answer arrived late: the first outcome stands
        request = decode(history[0])
        assert isinstance(request, RegistrationRequested)
        outcome: DomainEvent
        if isinstance(event, RegistrationAccepted):
            outcome = EnrolledAtBPJS(
                worker_id=request.worker_id,
                programme_code=request.programme_code,
                funder=request.funder,
                regency_code=request.regency_code,
                kpj=event.kpj,
                coverage_start=request.coverage_start,
                coverage_end=request.coverage_end,
                request_id=request.request_id,
            )
        else:
            outcome = EnrollmentFailed(
                worker_id=request.worker_id,
                programme_code=request.programme_code,
                regency_code=request.regency_code,
                reason_code=event.reason_code,
                reason=event.reason,
                request_id=request.request_id,
            )
        await ctx.store.append(
            ctx.conn,
            stream,
            [outcome],
            expected_version=len(history),
            correlation_id=ctx.envelope.correlation_id,
            causation_id=ctx.envelope.event_id,
        )
