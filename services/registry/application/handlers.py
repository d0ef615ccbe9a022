"""The registry's reactions to other services' events: programme settings and BPJS membership."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from libs.events.contracts.allocation import ProgrammeDefined
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.messaging.consumer import HandlerContext
from services.registry.adapters.tables import participants, programmes


class RegistryHandler:
    """Keeps the registry's copies of programmes and of active BPJS participants."""

    interested = frozenset({ProgrammeDefined.event_type, EnrolledAtBPJS.event_type})

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, ProgrammeDefined):
            row = {
                "programme_code": event.programme_code,
                "funder": event.funder.value,
                "jurisdiction": event.jurisdiction,
                "coverage_start": event.coverage_start,
                "coverage_end": event.coverage_end,
                "definition": event.model_dump(mode="json"),
            }
            stmt = insert(programmes).values(row)
            await ctx.conn.execute(
                stmt.on_conflict_do_update(index_elements=["programme_code"], set_=dict(stmt.excluded))
            )
        elif isinstance(event, EnrolledAtBPJS):
            participant: dict[str, object] = {
                "worker_id": event.worker_id,
                "kpj": event.kpj,
                "programme_code": event.programme_code,
                "coverage_end": event.coverage_end,
                "active": True,
            }
            stmt = insert(participants).values(participant)
            await ctx.conn.execute(
                stmt.on_conflict_do_update(index_elements=["worker_id"], set_=dict(stmt.excluded))
            )
