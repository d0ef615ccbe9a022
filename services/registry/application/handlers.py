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

from collections.abc import Awaitable, Callable, Sequence

from aiokafka.structs import ConsumerRecord

from libs.events import topics
from libs.events.contracts.allocation import ProgrammeDefined, QuotaChanged
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from libs.messaging.consumer import Consumed
from libs.nik import normalize_nik
from services.registry.application.inbound import Inbound, Submitted
from services.registry.application.refusals import answer_parked
from services.registry.domain.one_payer import SEAT_EVENTS

ProjectConsumed = Callable[[StoreTransaction, Sequence[Envelope]], Awaitable[None]]
"""Other services' events applied, in order, to the registry's copies
(adapters/consumed_projections.py: a few statements for a whole batch)."""


class RegistryReactor:
    """Keeps the registry's copies of programmes and BPJS participants; decides inbound nominations."""

    interested = frozenset(
        {ProgrammeDefined.event_type, EnrolledAtBPJS.event_type, NominationSubmitted.event_type}
        | {QuotaChanged.event_type}  # seats opened or closed (the door's NO_SEAT_IN_PROGRAMME)
        | SEAT_EVENTS
    )

    def __init__(self, inbound: Inbound, project_consumed: ProjectConsumed, *, pepper: str) -> None:
        self.inbound = inbound
        self.project_consumed = project_consumed
        self.pepper = pepper

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        """The batch in segments (`segments`): in each, everything else (programmes, BPJS
        participants, seats, which the decisions read) projected together, then the inbound
        nominations decided together."""
        submitted = [(i.clear, i.event) for i in items if isinstance(i.event, NominationSubmitted)]
        # A regency system's nomination comes in clear: its inbox copy keeps the personal fields
        # sealed under the person's key (libs/privacy), like the WorkerNominated it causes.
        copies = [(envelope, self._subject(event.nik)) for envelope, event in submitted]
        await self.inbound.nominations.lookups(tx).seal_inbox_copies(copies)
        for consumed, run in segments(items, self._subject):
            if consumed:
                await self.project_consumed(tx, consumed)
            if run:
                await self.inbound.decide_in(tx, in_submission_order(run))

    async def parked(
        self,
        tx: StoreTransaction,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None:
        """Called for every record the registry's consumer parks: answer those from regency systems."""
        if record.topic != topics.NOMINATIONS_INBOUND:
            return
        await answer_parked(tx, record, envelope, error)
        if envelope is not None:  # its inbox row (outcome parked) is sealed like any other
            nik = envelope.payload.get("nik")
            subject = self._subject(nik if isinstance(nik, str) else "")
            await self.inbound.nominations.lookups(tx).seal_inbox_copies([(envelope, subject)])

    def _subject(self, nik: str) -> str:
        return worker_id_for(normalize_nik(nik), self.pepper)


def segments(
    items: Sequence[Consumed], subject: Callable[[str], str]
) -> list[tuple[list[Envelope], list[Submitted]]]:
    """The batch cut where order matters: each segment's other events (projected first, in
    order) and inbound nominations (decided after them, together), as one by one would leave them.

    An event that came before a nomination is projected before it anyway. One that came after
    nominations may join their segment only when the two commute: a seat or a BPJS membership
    concerns one worker, and a decision reads only its own worker's facts, so it must not name a
    worker nominated in the segment (`subject` of the NIK); a programme's definition or seats
    concern every decision, and always start a new segment after nominations."""
    cut: list[tuple[list[Envelope], list[Submitted]]] = []
    consumed: list[Envelope] = []
    run: list[Submitted] = []
    nominated: set[str] = set()
    for item in items:
        if isinstance(item.event, NominationSubmitted):
            run.append((item.clear, item.event))
            nominated.add(subject(item.event.nik))
            continue
        worker_id = getattr(item.event, "worker_id", None)
        if run and (not isinstance(worker_id, str) or worker_id in nominated):
            cut.append((consumed, run))
            consumed, run, nominated = [], [], set()
        consumed.append(item.clear)
    if consumed or run:
        cut.append((consumed, run))
    return cut


def in_submission_order(run: list[Submitted]) -> list[Submitted]:
    """Inbound nominations in the order their senders submitted them (stable: a sender's repeats
    keep their order)."""
    return sorted(run, key=lambda item: item[0].occurred_at)
