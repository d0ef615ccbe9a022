"""The registry's reactions to other services' events: programme settings and BPJS membership."""

from __future__ import annotations

from libs.events.contracts.allocation import ProgrammeDefined
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.messaging.consumer import HandlerContext
from services.registry.adapters.projections import project_consumed


class RegistryHandler:
    """Keeps the registry's copies of programmes and of active BPJS participants."""

    interested = frozenset({ProgrammeDefined.event_type, EnrolledAtBPJS.event_type})

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        await project_consumed(ctx.conn, ctx.envelope)
