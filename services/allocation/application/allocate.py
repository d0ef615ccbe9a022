"""Running a quota decision on a programme's stream, with the one-payer rule across programmes.

A step loads the programme's state, decides (pure domain), checks the holds of every worker the
decision would seat, decides again with the workers another programme keeps marked as blocked
(until nobody new would be seated), and appends the decisions as wire events with the version it
loaded (optimistic concurrency: a concurrent append raises ConcurrencyError, the whole
transaction is rolled back and retried). A seat that outranks another programme's provisional
hold queues a step releasing the worker there (HELD_BY_OTHER_PROGRAMME), in the same transaction.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope
from libs.events.contracts import allocation as wire
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import WorkerIdentity
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.store import EventStore
from services.allocation.adapters.tables import assignments
from services.allocation.application.holds import is_final_hold, verdict_for
from services.allocation.application.programmes import ProgrammeBook, ProgrammeFacts
from services.allocation.application.quota_stream import QuotaStates, stream_of
from services.allocation.domain.cross_programme import CrossProgrammeVerdict
from services.allocation.domain.quota import Decision, QuotaState, decide_release
from services.allocation.domain.quota_events import (
    Assign,
    BudgetChanged,
    Decline,
    QuotaEvent,
    Release,
    ReleaseReason,
    SeatsChanged,
    Unseat,
    Waitlist,
)

Decide = Callable[[QuotaState, Mapping[str, str]], Decision]
"""A decision on a state, given the waiting workers other programmes keep (id -> programme)."""

MAX_STEPS = 1_000  # displacement chains are short; a runaway loop is a bug, not a workload
# PostgreSQL's answers when two transactions wait on each other (two programme streams, or their
# counter rows, taken in opposite orders): one of them is rolled back and should simply retry.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


class TransactionCollided(ConcurrencyError):
    """PostgreSQL rolled this transaction back to break a deadlock: retry it like a lost race."""

    def __init__(self, programme_code: str) -> None:
        Exception.__init__(self, f"deciding on {programme_code} collided with another transaction")
        self.aggregate_id = stream_of(programme_code)
        self.expected_version = None
        self.actual_version = -1


@dataclass(frozen=True, slots=True)
class WorkerFacts:
    """What the wire events say about a worker besides the decision."""

    nomination_id: str
    regency_code: str
    sector: str
    decile: int | None
    identity: WorkerIdentity | None


@dataclass
class Step:
    """One decision on one programme's stream.

    `verdicts`: cross-programme verdicts already known (the validated worker's); `facts`: worker
    facts not in the read model yet; `must_not_be_final`: a worker whose seat here is being
    displaced, which must still be provisional (else the displacing transaction is retried).
    """

    programme_code: str
    decide: Decide
    verdicts: dict[str, CrossProgrammeVerdict] = field(default_factory=dict)
    facts: dict[str, WorkerFacts] = field(default_factory=dict)
    note: str = ""
    must_not_be_final: str | None = None


@dataclass
class Outcome:
    """What a run appended: every envelope, per programme stream."""

    envelopes: list[Envelope] = field(default_factory=list)

    def of_type(self, event_type: str) -> list[Envelope]:
        return [e for e in self.envelopes if e.event_type == event_type]


class Allocator:
    """Runs steps (and the displacement steps they cause) in the caller's transaction."""

    def __init__(self, states: QuotaStates, book: ProgrammeBook) -> None:
        self.states = states
        self.book = book
        self.races_lost = 0  # appends refused because another writer appended first (retried)

    async def run(
        self,
        conn: AsyncConnection,
        store: EventStore,
        first: Step,
        *,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None,
    ) -> Outcome:
        outcome = Outcome()
        queue = deque([first])
        for _ in range(MAX_STEPS):
            if not queue:
                return outcome
            step = queue.popleft()
            try:
                queue.extend(await self._step(conn, store, step, outcome, correlation_id, causation_id))
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
                    raise TransactionCollided(step.programme_code) from exc
                raise
        raise RuntimeError(f"more than {MAX_STEPS} displacement steps from {first.programme_code}")

    async def _step(
        self,
        conn: AsyncConnection,
        store: EventStore,
        step: Step,
        outcome: Outcome,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None,
    ) -> list[Step]:
        programme = await self.book.get(conn, step.programme_code)
        loaded = await self.states.load(conn, programme.code)
        if step.must_not_be_final is not None and await is_final_hold(
            conn, step.must_not_be_final, programme
        ):
            # Fixed by a decree since the verdict was read: the displacing seat is void. Retry.
            raise ConcurrencyError(stream_of(programme.code), loaded.version, loaded.version)
        verdicts = dict(step.verdicts)
        decision = await self._settle(conn, programme, loaded.state, step.decide, verdicts)
        if not decision:
            return []
        facts = dict(step.facts)
        wanted = {_worker_of(d) for d in decision} - {None} - facts.keys()
        facts.update(await stored_facts(conn, programme.code, {w for w in wanted if w}))
        events = to_wire(decision, programme, loaded.state, facts, step.note)
        try:
            appended = await store.append_chained(
                conn,
                stream_of(programme.code),
                events,
                expected_version=loaded.version,
                expected_hash=loaded.last_hash,
                correlation_id=correlation_id,
                causation_id=causation_id,
            )
        except ConcurrencyError:
            self.races_lost += 1
            raise
        self.states.remember(programme.code, loaded, decision, appended)
        outcome.envelopes.extend(appended.envelopes)
        seated = [seat.worker_id for seat in decision if isinstance(seat, Assign)]
        return [
            displacement(holder, programme.code, worker_id)
            for worker_id in seated
            for holder in verdicts[worker_id].displaces
        ] + [
            leaving_waitlist(waiting_in, programme.code, worker_id)
            for worker_id in seated
            for waiting_in in verdicts[worker_id].waiting_in
        ]

    async def _settle(
        self,
        conn: AsyncConnection,
        programme: ProgrammeFacts,
        state: QuotaState,
        decide: Decide,
        verdicts: dict[str, CrossProgrammeVerdict],
    ) -> Decision:
        """Decide until every worker seated has been checked against their other holds."""
        while True:
            blocked = {w: v.held_by for w, v in verdicts.items() if not v.allowed and v.held_by}
            decision = decide(state, blocked)
            unchecked = [e for e in decision if isinstance(e, Assign) and e.worker_id not in verdicts]
            if not unchecked:
                return decision
            for seat in unchecked:
                verdicts[seat.worker_id] = await verdict_for(
                    conn, seat.worker_id, programme, seat.nomination_seq
                )


def leaving_waitlist(programme_code: str, keeper: str, worker_id: str) -> Step:
    """The step taking `worker_id` off `programme_code`'s waitlist because `keeper` seats them (a
    waitlist place holds nobody, so nothing has to be provisional there)."""

    def decide(state: QuotaState, blocked: Mapping[str, str]) -> Decision:
        if worker_id not in state.waiting:
            return ()  # no longer waiting there: nothing to do
        reason = ReleaseReason.HELD_BY_OTHER_PROGRAMME
        return decide_release(state, worker_id, reason, held_by=keeper, blocked=blocked)

    return Step(programme_code, decide)


def displacement(programme_code: str, keeper: str, worker_id: str) -> Step:
    """The step releasing `worker_id`'s provisional seat in `programme_code` because `keeper`,
    whose funder proposed them first, seats them."""

    def decide(state: QuotaState, blocked: Mapping[str, str]) -> Decision:
        if worker_id not in state.assigned:
            return ()  # no longer held there: nothing to release
        reason = ReleaseReason.HELD_BY_OTHER_PROGRAMME
        return decide_release(state, worker_id, reason, held_by=keeper, blocked=blocked)

    return Step(programme_code, decide, must_not_be_final=worker_id)


async def stored_facts(
    conn: AsyncConnection, programme_code: str, worker_ids: set[str]
) -> dict[str, WorkerFacts]:
    """Facts of workers the programme already decided about, from its read model."""
    if not worker_ids:
        return {}
    rows = await conn.execute(
        select(assignments).where(
            assignments.c.programme_code == programme_code, assignments.c.worker_id.in_(worker_ids)
        )
    )
    return {
        r.worker_id: WorkerFacts(
            nomination_id=r.nomination_id,
            regency_code=r.regency_code,
            sector=r.sector,
            decile=r.decile,
            identity=WorkerIdentity.model_validate(r.identity) if r.identity else None,
        )
        for r in rows
    }


def _worker_of(decision: QuotaEvent) -> str | None:
    if isinstance(decision, Assign | Waitlist | Release | Unseat | Decline):
        return decision.worker_id
    return None


def to_wire(
    decision: Sequence[QuotaEvent],
    programme: ProgrammeFacts,
    before: QuotaState,
    facts: Mapping[str, WorkerFacts],
    note: str = "",
) -> list[DomainEvent]:
    """The wire events of a decision taken on `before` (the state it was decided on)."""
    events: list[DomainEvent] = []
    seats_changed = [d for d in decision if isinstance(d, SeatsChanged)]
    moved = len(seats_changed) == 2
    seat_desil = {d.worker_id: d.desil for d in decision if isinstance(d, Assign)}
    for d in decision:
        if isinstance(d, SeatsChanged):
            change = ("move_out" if d is seats_changed[0] else "move_in") if moved else "set"
            events.append(
                wire.QuotaChanged(
                    programme_code=programme.code,
                    regency_code=d.regency,
                    sector=d.sector.value,
                    seats=d.seats,
                    previous_seats=before.seats.get(d.cell, 0),
                    over_assigned=d.over_assigned,
                    change=change,
                    note=note,
                )
            )
        elif isinstance(d, BudgetChanged):
            events.append(
                wire.BudgetChanged(
                    programme_code=programme.code,
                    budget_cap=d.budget_cap,
                    previous_cap=before.budget_cap,
                    over_committed=d.over_committed,
                    note=note,
                )
            )
        elif isinstance(d, Assign | Waitlist | Release | Unseat | Decline):
            events.append(_worker_event(d, programme, facts[d.worker_id], seat_desil))
        else:
            raise TypeError(f"{type(d).__name__} is not decided through the allocator")
    return events


def _worker_event(
    d: Assign | Waitlist | Release | Unseat | Decline,
    programme: ProgrammeFacts,
    f: WorkerFacts,
    seat_desil: Mapping[str, int | None],
) -> DomainEvent:
    common: dict[str, Any] = {"worker_id": d.worker_id, "programme_code": programme.code}
    if isinstance(d, Assign):
        return wire.QuotaAssigned(
            **common,
            nomination_id=f.nomination_id,
            funder=programme.funder,
            regency_code=d.regency,
            sector=d.sector.value,
            decile=f.decile,
            identity=_identity(f),
            coverage_start=programme.coverage_start,
            coverage_end=programme.coverage_end,
            premium_per_month=programme.premium_per_month,
            requires_decree=programme.requires_decree,
            promoted=d.promoted,
            nomination_seq=d.nomination_seq,
            desa_code=d.desa_code,
        )
    if isinstance(d, Waitlist):
        return wire.QuotaWaitlisted(
            **common,
            nomination_id=f.nomination_id,
            regency_code=d.regency,
            sector=d.sector.value,
            decile=d.desil,
            identity=_identity(f),
            nomination_seq=d.nomination_seq,
            decree_round=d.decree_round,
            position=d.position,
            reason=d.reason.value,
            desa_code=d.desa_code,
        )
    if isinstance(d, Unseat):
        return wire.QuotaUnseated(
            **common,
            nomination_id=f.nomination_id,
            regency_code=d.regency,
            sector=d.sector.value,
            decile=d.desil,
            nomination_seq=d.nomination_seq,
            decree_round=d.decree_round,
            position=d.position,
            reason=d.reason.value,
            by_worker_id=d.by_worker_id,
            by_decile=seat_desil[d.by_worker_id] or 1,
            desa_code=d.desa_code,
        )
    if isinstance(d, Decline):
        return wire.QuotaDeclined(
            **common,
            nomination_id=f.nomination_id,
            regency_code=d.regency,
            sector=d.sector.value,
            reason="held_by_other_programme",
            held_by=d.held_by,
        )
    return wire.QuotaReleased(
        **common,
        regency_code=f.regency_code,
        sector=f.sector,
        reason=d.reason.value,
        held_by=d.held_by,
    )


def _identity(f: WorkerFacts) -> WorkerIdentity:
    if f.identity is None:
        raise ValueError(f"no identity recorded for nomination {f.nomination_id}")
    return f.identity
