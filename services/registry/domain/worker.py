"""The worker stream (`worker-<worker id>`) as a decider: every nomination of one worker, and
what may be recorded next about them.

A nomination is decided on two kinds of facts: what the stream says (its nominations so far)
and what the read models said when the decision started (P3KE, DTKS, BPJS participation, the
seats other services gave; `WorkerFacts`, with the stream's version read before them). A command
carries those facts and the version they were read at; the stream must still be there, plus
what earlier commands of the same batch decided (a later nomination of the same NIK in one list
sees the earlier one, exactly as if each had its own transaction). Anything else in between is a
lost race: ConcurrencyError, and the batch is decided again on fresh facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Reason
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationRevalidated,
    NominationWithdrawn,
    PersonForgotten,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.eventstore.decider import Decider, Recorded
from libs.eventstore.errors import ConcurrencyError
from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.decisions import (
    Programme,
    WorkerFacts,
    evaluate,
    held_by,
    outcome_event,
)
from services.registry.domain.nomination import ExistingNomination
from services.registry.domain.reasons import Rejection

# What an officer may correct: everything the regency states about the worker. Not the programme
# nor the nominating regency (a nomination never changes hands), nor the funder.
CORRECTABLE = (
    "nik",
    "full_name",
    "birth_date",
    "sex",
    "occupation",
    "kecamatan",
    "desa",
    "address",
    "phone",
    "sector",
    "decile",
)

WithdrawalReason = Literal["died", "moved", "declined", "other"]


def stream_of(worker_id: str) -> str:
    """The stream of one worker's nominations."""
    return f"worker-{worker_id}"


class ChangeRefused(ValueError):
    """The change cannot be made; `answer` says why, `status` is the HTTP status that fits."""

    def __init__(self, answer: Answer, status: int) -> None:
        super().__init__(answer.message)
        self.answer = answer
        self.status = status


@dataclass(frozen=True)
class NominationState:
    """A nomination as its events in one stream left it; `version`: its latest event's."""

    nomination_id: str
    source: WorkerNominated | NominationCorrected  # the latest statement of its fields
    status: str = "pending"  # pending | validated | rejected | withdrawn
    reasons: tuple[Reason, ...] = ()
    reference_version: str | None = None
    source_ref: str | None = None
    submitted_by: str | None = None
    version: int = 0

    @property
    def worker_id(self) -> str:
        return self.source.worker_id


@dataclass(frozen=True)
class WorkerState:
    """One worker's stream: its version and its nominations by id."""

    version: int = 0
    nominations: Mapping[str, NominationState] = field(default_factory=dict)


def _nomination(state: NominationState | None, event: DomainEvent, version: int) -> NominationState | None:
    if isinstance(event, WorkerNominated):
        return NominationState(
            event.nomination_id,
            event,
            source_ref=event.source_ref,
            submitted_by=event.submitted_by,
            version=version,
        )
    if isinstance(event, NominationCorrected):
        if state is None:  # the NIK was corrected: the nomination continues on this stream
            state = NominationState(event.nomination_id, event)
        return replace(state, source=event, status="pending", reasons=(), version=version)
    if state is None:
        return None
    if isinstance(event, WorkerValidated):
        return replace(
            state, status="validated", reasons=(), reference_version=event.reference_version, version=version
        )
    if isinstance(event, WorkerRejected):
        return replace(
            state,
            status="rejected",
            reasons=tuple(event.reasons),
            reference_version=event.reference_version,
            version=version,
        )
    if isinstance(event, NominationWithdrawn):
        return replace(state, status="withdrawn", version=version)
    return replace(state, version=version)


def evolve(state: WorkerState, recorded: Recorded) -> WorkerState:
    """The worker's stream after one more event."""
    version = recorded.envelope.aggregate_version
    nomination_id = getattr(recorded.event, "nomination_id", None)
    if not isinstance(nomination_id, str):
        return replace(state, version=version)
    after = _nomination(state.nominations.get(nomination_id), recorded.event, version)
    if after is None:
        return replace(state, version=version)
    return WorkerState(version, {**state.nominations, nomination_id: after})


def fold_nomination(history: Sequence[Recorded], nomination_id: str) -> NominationState | None:
    """The state of `nomination_id` from one worker stream's events (None if it is not there)."""
    state = WorkerState()
    for recorded in history:
        state = evolve(state, recorded)
    return state.nominations.get(nomination_id)


@dataclass(frozen=True)
class Decide:
    """Decide a nomination's fields (a new nomination, or a rejected one corrected) on `facts`,
    read when the stream was at `facts.head`; `nominated_at` is the instant allocation ranks it by."""

    statement: WorkerNominated | NominationCorrected
    programme: Programme
    facts: WorkerFacts
    reference: str
    nominated_at: datetime
    extra: tuple[Rejection, ...] = ()


@dataclass(frozen=True)
class Revalidate:
    """Decide a pending or poverty-rejected nomination again with a new reference version."""

    worker_id: str
    nomination_id: str
    programme: Programme
    facts: WorkerFacts
    reference: str
    nominated_at: datetime
    previous_reference_version: str | None
    trigger: str


@dataclass(frozen=True)
class Withdraw:
    """Withdraw a nomination (allocation releases its seat, if it had one)."""

    worker_id: str
    nomination_id: str
    reason: WithdrawalReason
    note: str
    withdrawn_by: str


@dataclass(frozen=True)
class Forget:
    """Record that the person's data key was destroyed (generation `key_generation`)."""

    worker_id: str
    forgotten_by: str
    reason: str
    key_generation: int


WorkerCommand = Decide | Revalidate | Withdraw | Forget


def worker_of(command: WorkerCommand) -> str:
    """The worker a command is about."""
    if isinstance(command, Decide):
        return command.statement.worker_id
    return command.worker_id


def _since_facts(state: WorkerState, command: Decide | Revalidate) -> list[ExistingNomination]:
    """Nominations validated after the facts were read, in the order decided: this batch's, of
    the batch's programme (another programme's can only be a concurrent writer's: a lost race)."""
    head, programme = command.facts.head, command.programme
    fresh = sorted((n for n in state.nominations.values() if n.version > head), key=lambda n: n.version)
    if any(n.source.programme_code != programme.code for n in fresh):
        raise ConcurrencyError(stream_of(worker_of(command)), head, state.version)
    return [
        held_by(n.nomination_id, n.source.regency_code, programme) for n in fresh if n.status == "validated"
    ]


def _check_facts(state: WorkerState, command: Decide | Revalidate) -> None:
    """The facts were read at `facts.head`: only this batch may have written since."""
    decided_since = sum(2 for n in state.nominations.values() if n.version > command.facts.head)
    if state.version != command.facts.head + decided_since:
        stream = stream_of(worker_of(command))
        raise ConcurrencyError(stream, command.facts.head + decided_since, state.version)


def decide(command: WorkerCommand, state: WorkerState) -> list[DomainEvent]:
    """What a command records on the worker's stream (raises to refuse it)."""
    if isinstance(command, Decide):
        _check_facts(state, command)
        excluding = (
            command.statement.nomination_id if isinstance(command.statement, NominationCorrected) else None
        )
        since = _since_facts(state, command)
        context = command.facts.context(excluding=excluding, since=since)
        outcome = evaluate(command.statement, command.programme, context, command.extra)
        decided = outcome_event(command.statement, outcome, context, command.reference, command.nominated_at)
        return [command.statement, decided]
    if isinstance(command, Revalidate):
        return _revalidate(command, state)
    if isinstance(command, Withdraw):
        nomination = state.nominations.get(command.nomination_id)
        if nomination is None:  # the read model names a stream without it: never expected
            raise RuntimeError(f"nomination {command.nomination_id} missing from its worker stream")
        if nomination.status == "withdrawn":
            raise ChangeRefused(answer(AnswerCode.NOMINATION_ALREADY_WITHDRAWN), 409)
        return [
            NominationWithdrawn(
                worker_id=command.worker_id,
                nomination_id=command.nomination_id,
                programme_code=nomination.source.programme_code,
                regency_code=nomination.source.regency_code,
                reason=command.reason,
                note=command.note,
                withdrawn_by=command.withdrawn_by,
            )
        ]
    if state.version == 0:
        raise ChangeRefused(answer(AnswerCode.PERSON_NOT_FOUND), 404)
    return [
        PersonForgotten(
            worker_id=command.worker_id,
            forgotten_by=command.forgotten_by,
            reason=command.reason,
            key_generation=command.key_generation,
        )
    ]


def _revalidate(command: Revalidate, state: WorkerState) -> list[DomainEvent]:
    _check_facts(state, command)
    nomination = state.nominations.get(command.nomination_id)
    if nomination is None or nomination.status not in ("pending", "rejected"):
        # Selected from the read model at this very version: it cannot have moved on.
        raise ConcurrencyError(stream_of(command.worker_id), command.facts.head, state.version)
    since = _since_facts(state, command)
    context = command.facts.context(excluding=command.nomination_id, since=since)
    outcome = evaluate(nomination.source, command.programme, context)
    decided = outcome_event(nomination.source, outcome, context, command.reference, command.nominated_at)
    marker = NominationRevalidated(
        worker_id=command.worker_id,
        nomination_id=command.nomination_id,
        programme_code=command.programme.code,
        regency_code=nomination.source.regency_code,
        reference_version=command.reference,
        previous_reference_version=command.previous_reference_version,
        previous_status="pending" if nomination.status == "pending" else "rejected",
        trigger=command.trigger,
    )
    return [marker, decided]


def worker_decider() -> Decider[WorkerCommand, WorkerState]:
    """The worker stream's decider (its rules come with each command's programme)."""
    return Decider(
        kind="worker",
        initial=WorkerState(),
        evolve=evolve,
        decide=decide,
        stream_of=lambda command: stream_of(worker_of(command)),
    )
