"""The registry's reactions to what it consumes: programme settings, BPJS membership, what
allocation and enrollment decided about each nomination (one payer per worker:
domain/one_payer.py), and nominations published by regency systems (with a reply to each, even to
one it must park).

A run of inbound nominations in one consumer batch comes from several partitions (keyed by the
regency system's row id): it is decided in the order the regency systems submitted them (the
envelope's `occurred_at`), so nominations posted back to back get their nomination times, and
their places in allocation's queue, in that order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import topics
from libs.events.contracts.allocation import ProgrammeDefined, QuotaChanged
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.eventstore.store import EventStore
from libs.identity import worker_id_for
from libs.messaging.consumer import HandlerContext
from libs.nik import normalize_nik
from libs.privacy.envelopes import seal_inbox_copies
from libs.settings import get_settings
from services.registry.adapters.projections import SEAT_EVENTS, project_consumed
from services.registry.application.inbound import answer_parked, handle_submitted, handle_submitted_batch


class RegistryHandler:
    """Keeps the registry's copies of programmes and BPJS participants; decides inbound nominations.

    `today` is the business calendar's day (passed in from the entrypoint): a programme whose
    coverage ended before it takes no more nominations.
    """

    def __init__(self, today: Callable[[], date]) -> None:
        self.today = today

    interested = frozenset(
        {ProgrammeDefined.event_type, EnrolledAtBPJS.event_type, NominationSubmitted.event_type}
        | {QuotaChanged.event_type}  # seats opened or closed (the door's NO_SEAT_IN_PROGRAMME)
        | SEAT_EVENTS
    )

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, NominationSubmitted):
            settings = get_settings()
            await handle_submitted(ctx.conn, ctx.store, ctx.envelope, event, settings, self.today())
            await _seal_copies(ctx.conn, ctx.store, [(ctx.envelope, event)], settings.nik_pepper)
        else:
            await project_consumed(ctx.conn, ctx.envelope)

    async def apply_batch(
        self, conn: AsyncConnection, store: EventStore, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None:
        """The batch in order: each run of inbound nominations decided together, everything else
        (programmes, BPJS participants, which the decisions read) projected in its place."""
        settings = get_settings()
        submitted = [(e, event) for e, event in items if isinstance(event, NominationSubmitted)]
        await _seal_copies(conn, store, submitted, settings.nik_pepper)
        run: list[tuple[Envelope, NominationSubmitted]] = []
        for envelope, event in items:
            if isinstance(event, NominationSubmitted):
                run.append((envelope, event))
                continue
            if run:
                await handle_submitted_batch(conn, store, _in_submission_order(run), settings, self.today())
                run = []
            await project_consumed(conn, envelope)
        if run:
            await handle_submitted_batch(conn, store, _in_submission_order(run), settings, self.today())

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
            if envelope is not None:  # its inbox row (outcome parked) is sealed like any other
                nik = envelope.payload.get("nik")
                subject = worker_id_for(
                    normalize_nik(nik if isinstance(nik, str) else ""), get_settings().nik_pepper
                )
                await seal_inbox_copies(conn, store.vault, store.tables.inbox, [(envelope, subject)])


async def _seal_copies(
    conn: AsyncConnection,
    store: EventStore,
    items: Sequence[tuple[Envelope, NominationSubmitted]],
    pepper: str,
) -> None:
    """A regency system's nomination comes in clear: its inbox copy keeps the personal fields
    sealed under the person's key (libs/privacy), like the WorkerNominated it causes."""
    copies = [(e, worker_id_for(normalize_nik(event.nik), pepper)) for e, event in items]
    await seal_inbox_copies(conn, store.vault, store.tables.inbox, copies)


def _in_submission_order(
    run: list[tuple[Envelope, NominationSubmitted]],
) -> list[tuple[Envelope, NominationSubmitted]]:
    """Inbound nominations in the order their senders submitted them (stable: a sender's repeats
    keep their order)."""
    return sorted(run, key=lambda item: item[0].occurred_at)
