"""Allocation's reactions: seat or waitlist validated workers, release seats, promote from the waitlist.

A consumer batch mixes partitions, so validated workers arrive out of nomination order (the
registry's topic is keyed by worker). Each run of consecutive WorkerValidated events of a batch is
therefore decided in nomination order (the registry's instant, then worker id); other events
(releases) keep their place.

Nomination time only, not desil first: how records are cut into batches depends on timing, so a
batch-wide reordering must not change what a partition's own order decides. A partition lists
its workers in nomination order already, so this sort never reorders them, and the decisions
depend only on what the registry published, whatever the cut. Desil priority is the quota's own
rule, the same for every cut: the waitlist ranks desil first, and before the first decree a
poorer (or earlier) worker takes the provisional seat of the last-ranked one (domain/quota.py).
Sorting a batch by desil would seat a desil-1 worker ahead of an earlier desil-2 one only when
both happened to share a batch: in a programme whose seats are final, a different seat per run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.enrollment import CoverageEnded, EnrollmentFailed
from libs.events.contracts.registry import NominationWithdrawn, PersonForgotten, WorkerValidated
from libs.eventstore.store import EventStore
from libs.messaging.consumer import HandlerContext
from services.allocation.adapters.projections import scrub_person
from services.allocation.application.allocate import Allocator, Step, WorkerFacts
from services.allocation.application.holds import verdict_for
from services.allocation.application.quota_stream import nomination_seq, rank_desil
from services.allocation.domain.quota import (
    Decision,
    QuotaState,
    ValidatedWorker,
    decide_release,
    decide_validated,
)
from services.allocation.domain.quota_events import ReleaseReason
from services.allocation.domain.sector import Sector


class AllocationHandler:
    """Turns registry and enrollment events into quota decisions on the programme's stream."""

    interested = frozenset(
        {
            WorkerValidated.event_type,
            NominationWithdrawn.event_type,
            EnrollmentFailed.event_type,
            CoverageEnded.event_type,
            PersonForgotten.event_type,
        }
    )

    def __init__(self, allocator: Allocator) -> None:
        self.allocator = allocator

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, PersonForgotten):
            await scrub_person(ctx.conn, event.worker_id)  # seats, counts and money stay
            return
        if isinstance(event, WorkerValidated):
            step = await self._validated(ctx, event)
        elif isinstance(event, NominationWithdrawn):
            reason = ReleaseReason.DIED if event.reason == "died" else ReleaseReason.WITHDRAWN
            step = _release(event.programme_code, event.worker_id, reason)
        elif isinstance(event, EnrollmentFailed):
            step = _release(event.programme_code, event.worker_id, ReleaseReason.ENROLLMENT_FAILED)
        elif isinstance(event, CoverageEnded) and event.reason == "membership_ended":
            # BPJS ended the membership: the worker holds no seat any more (one payer per worker:
            # another funder may take them). Every other CoverageEnded follows a release of ours.
            step = _release(event.programme_code, event.worker_id, ReleaseReason.MEMBERSHIP_ENDED)
        else:
            return
        await self.allocator.run(
            ctx.conn,
            ctx.store,
            step,
            correlation_id=ctx.envelope.correlation_id,
            causation_id=ctx.envelope.event_id,
        )

    async def apply_batch(
        self, conn: AsyncConnection, store: EventStore, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None:
        """A consumer batch in one transaction, validated workers in nomination order (module doc)."""
        for envelope, event in in_nomination_order(items):
            await self(HandlerContext(conn=conn, store=store, envelope=envelope), event)

    async def _validated(self, ctx: HandlerContext, event: WorkerValidated) -> Step:
        programme = await self.allocator.book.get(ctx.conn, event.programme_code)
        worker = ValidatedWorker(
            worker_id=event.worker_id,
            regency=event.regency_code,
            sector=Sector(event.sector),
            desil=rank_desil(event.decile),
            nomination_seq=nomination_seq(event.nominated_at),
            desa_code=event.desa_code,
        )
        # Checked before deciding, seat or not: a worker another programme keeps is declined, not
        # put on a waitlist they could never leave.
        verdict = await verdict_for(ctx.conn, worker.worker_id, programme, worker.nomination_seq)

        def decide(state: QuotaState, blocked: Mapping[str, str]) -> Decision:
            return decide_validated(state, worker, held_by=blocked.get(worker.worker_id))

        facts = WorkerFacts(
            nomination_id=event.nomination_id,
            regency_code=event.regency_code,
            sector=event.sector,
            decile=event.decile,
            identity=event.identity,
        )
        return Step(
            programme.code,
            decide,
            verdicts={worker.worker_id: verdict},
            facts={worker.worker_id: facts},
        )


def _release(programme_code: str, worker_id: str, reason: ReleaseReason) -> Step:
    def decide(state: QuotaState, blocked: Mapping[str, str]) -> Decision:
        return decide_release(state, worker_id, reason, blocked=blocked)

    return Step(programme_code, decide)


def in_nomination_order(
    items: Sequence[tuple[Envelope, DomainEvent]],
) -> list[tuple[Envelope, DomainEvent]]:
    """The batch with each run of consecutive WorkerValidated sorted by nomination time (then
    worker id); every other event keeps its place, so a worker's release never moves before their
    validation."""
    ordered: list[tuple[Envelope, DomainEvent]] = []
    run: list[tuple[Envelope, DomainEvent]] = []
    for envelope, event in items:
        if isinstance(event, WorkerValidated):
            run.append((envelope, event))
            continue
        ordered += sorted(run, key=_nominated)
        run = []
        ordered.append((envelope, event))
    return ordered + sorted(run, key=_nominated)


def _nominated(item: tuple[Envelope, DomainEvent]) -> tuple[int, str]:
    event = item[1]
    assert isinstance(event, WorkerValidated)
    return (nomination_seq(event.nominated_at), event.worker_id)
