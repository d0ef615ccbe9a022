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

Consecutive validated workers of one programme are decided together (one load, one append),
exactly as one by one: a worker with holds in another programme closes the run, since their seat
may ask that programme to release them before the next worker's holds are read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from libs.desil import rank_desil
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.enrollment import CoverageEnded, EnrollmentFailed
from libs.events.contracts.registry import NominationWithdrawn, PersonForgotten, WorkerValidated
from libs.eventstore.kit import Origin
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed
from services.allocation.application.allocate import Allocator, Asked
from services.allocation.domain.programme_commands import ReleaseWorker, Validate, WorkerHolds
from services.allocation.domain.quota import ValidatedWorker
from services.allocation.domain.quota_events import ReleaseReason
from services.allocation.domain.quota_wire import WorkerFacts, nomination_seq
from services.allocation.domain.sector import Sector

T = TypeVar("T")


class AllocationHandler:
    """Turns registry and enrollment events into quota decisions on the programmes' streams."""

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

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        """A consumer batch in its transaction, validated workers in nomination order (module doc)."""
        tx = self.allocator.states.over(tx)
        run: list[Consumed] = []
        for item in in_nomination_order(items, lambda i: i.event):
            event = item.event
            if run and not (isinstance(event, WorkerValidated) and _programme(run) == event.programme_code):
                await self._validated(tx, run)
                run = []
            if isinstance(event, WorkerValidated):
                run.append(item)
            elif isinstance(event, PersonForgotten):
                await self.allocator.read_models.forget_person(tx, event.worker_id)  # seats stay
            else:
                release = _release_of(event)
                if release is not None:
                    await self.allocator.run(tx, [Asked(release, Origin.of(item.clear))])
        if run:
            await self._validated(tx, run)

    async def _validated(self, tx: StoreTransaction, items: list[Consumed]) -> None:
        """Validated workers of one programme: runs up to each worker held elsewhere (module doc)."""
        code = _programme(items)
        rest = [(item, _validate(item)) for item in items]
        while rest:
            workers = {c.worker.worker_id: c.worker.nomination_seq for _, c in rest}
            # Checked before deciding, seat or not: a worker another programme keeps is declined,
            # not put on a waitlist they could never leave.
            holds: dict[str, WorkerHolds] = await self.allocator.read_models.holds_of(tx, workers, code)
            cut = next((i + 1 for i, (_, c) in enumerate(rest) if holds[c.worker.worker_id].holds), len(rest))
            run = [
                Asked(Validate(code, c.worker, c.facts, holds), Origin.of(item.clear))
                for item, c in rest[:cut]
            ]
            await self.allocator.run(tx, run)
            rest = rest[cut:]


def _programme(items: Sequence[Consumed]) -> str:
    event = items[0].event
    assert isinstance(event, WorkerValidated)
    return event.programme_code


def _validate(item: Consumed) -> Validate:
    event = item.event
    assert isinstance(event, WorkerValidated)
    worker = ValidatedWorker(
        worker_id=event.worker_id,
        regency=event.regency_code,
        sector=Sector(event.sector),
        desil=rank_desil(event.decile),
        nomination_seq=nomination_seq(event.nominated_at),
        desa_code=event.desa_code,
    )
    facts = WorkerFacts(
        nomination_id=event.nomination_id,
        regency_code=event.regency_code,
        sector=event.sector,
        decile=event.decile,
        identity=event.identity,
    )
    return Validate(event.programme_code, worker, facts)


def _release_of(event: DomainEvent) -> ReleaseWorker | None:
    if isinstance(event, NominationWithdrawn):
        reason = ReleaseReason.DIED if event.reason == "died" else ReleaseReason.WITHDRAWN
        return ReleaseWorker(event.programme_code, event.worker_id, reason)
    if isinstance(event, EnrollmentFailed):
        return ReleaseWorker(event.programme_code, event.worker_id, ReleaseReason.ENROLLMENT_FAILED)
    if isinstance(event, CoverageEnded) and event.reason == "membership_ended":
        # BPJS ended the membership: the worker holds no seat any more (one payer per worker:
        # another funder may take them). Every other CoverageEnded follows a release of ours.
        return ReleaseWorker(event.programme_code, event.worker_id, ReleaseReason.MEMBERSHIP_ENDED)
    return None


def in_nomination_order(items: Sequence[T], event_of: Callable[[T], DomainEvent]) -> list[T]:
    """The batch with each run of consecutive WorkerValidated sorted by nomination time (then
    worker id); every other event keeps its place, so a worker's release never moves before their
    validation."""

    def nominated(item: T) -> tuple[int, str]:
        event = event_of(item)
        assert isinstance(event, WorkerValidated)
        return (nomination_seq(event.nominated_at), event.worker_id)

    ordered: list[T] = []
    run: list[T] = []
    for item in items:
        if isinstance(event_of(item), WorkerValidated):
            run.append(item)
            continue
        ordered += sorted(run, key=nominated)
        run = []
        ordered.append(item)
    return ordered + sorted(run, key=nominated)
