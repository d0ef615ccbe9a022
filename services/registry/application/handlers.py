"""The registry's reactions to what it consumes: programme settings, BPJS membership, and
nominations published by regency systems (with a reply to each, even to one it must park)."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import topics
from libs.events.contracts.allocation import ProgrammeDefined
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.eventstore.store import EventStore
from libs.messaging.consumer import HandlerContext
from libs.settings import get_settings
from services.registry.adapters.projections import project_consumed
from services.registry.application.inbound import answer_parked, handle_submitted, handle_submitted_batch


class RegistryHandler:
    """Keeps the registry's copies of programmes and BPJS participants; decides inbound nominations."""

    interested = frozenset(
        {ProgrammeDefined.event_type, EnrolledAtBPJS.event_type, NominationSubmitted.event_type}
    )

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, NominationSubmitted):
            await handle_submitted(ctx.conn, ctx.store, ctx.envelope, event, get_settings())
        else:
            await project_consumed(ctx.conn, ctx.envelope)

    async def apply_batch(
        self, conn: AsyncConnection, store: EventStore, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None:
        """The batch in order: each run of inbound nominations decided together, everything else
        (programmes, BPJS participants, which the decisions read) projected in its place."""
        settings = get_settings()
        run: list[tuple[Envelope, NominationSubmitted]] = []
        for envelope, event in items:
            if isinstance(event, NominationSubmitted):
                run.append((envelope, event))
                continue
            if run:
                await handle_submitted_batch(conn, store, run, settings)
                run = []
            await project_consumed(conn, envelope)
        if run:
            await handle_submitted_batch(conn, store, run, settings)

    async def parked(
        self,
        conn: AsyncConnection,
        store: EventStore,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None:
        """Called for every record the registry's consumer parks: answer those from regency systems."""
        if record.topic == topics.NOMINATIONS_INBOUND:
            await answer_parked(conn, store, record, envelope, error)
