"""The registry's deciders without any store: the worker stream (facts read before the stream
guard the race), the reply to a regency system, the reference extract's history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.registry import NominationAccepted, WorkerNominated
from libs.eventstore.decider import Decider, Recorded
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.kit import Origin, recorded_as
from services.registry.application.nominate import nominated_event, programme_of
from services.registry.domain.decisions import WorkerFacts
from services.registry.domain.reference import ImportExtract, reference_decider
from services.registry.domain.replies import Reply, reply_decider
from services.registry.domain.worker import (
    ChangeRefused,
    Decide,
    Forget,
    Withdraw,
    WorkerCommand,
    WorkerState,
    worker_decider,
)
from tests.unit.registry.fakes import a_command, programme_record

AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
WORKERS = worker_decider()
PROGRAMME = programme_of(programme_record())


def after(state: WorkerState, events: list[DomainEvent], stream: str = "worker-w1") -> WorkerState:
    recorded = recorded_as(
        events,
        stream_id=stream,
        after_version=state.version,
        origin=Origin.new(),
        occurred_at=AT,
        producer="t",
    )
    return WORKERS.fold(recorded, state)


def a_decide(facts: WorkerFacts, **overrides: object) -> Decide:
    nominated = nominated_event(a_command(**overrides), "w1", PROGRAMME, "http", "petugas")
    assert nominated is not None
    return Decide(nominated, PROGRAMME, facts, "p3ke:a;dtks:none", AT)


def decide_in_order(decider: Decider[WorkerCommand, WorkerState], commands: list[Decide]) -> list[str]:
    """The decision event of each command, deciding them in order as the kit does."""
    state, decided = decider.initial, []
    for command in commands:
        events = list(decider.decide(command, state))
        decided.append(events[-1].event_type)
        state = after(state, events)
    return decided


def test_a_later_nomination_of_the_same_worker_in_a_batch_sees_the_earlier_one() -> None:
    facts = WorkerFacts(p3ke_desil=1)

    assert decide_in_order(WORKERS, [a_decide(facts), a_decide(facts)]) == [
        "WorkerValidated",
        "WorkerRejected",
    ]


def test_facts_older_than_the_stream_are_a_lost_race() -> None:
    facts = WorkerFacts(head=0, p3ke_desil=1)
    # A nomination of another programme committed after our facts were read: decide again.
    theirs = a_decide(WorkerFacts()).statement.model_copy(update={"programme_code": "OTHER"})
    assert isinstance(theirs, WorkerNominated)
    state = after(WorkerState(), [theirs])

    with pytest.raises(ConcurrencyError):
        WORKERS.decide(a_decide(facts), state)


def test_a_withdrawn_nomination_is_not_withdrawn_twice() -> None:
    command = a_decide(WorkerFacts(p3ke_desil=1))
    state = after(WORKERS.initial, list(WORKERS.decide(command, WORKERS.initial)))
    withdraw = Withdraw("w1", command.statement.nomination_id, "died", "", "petugas")
    state = after(state, list(WORKERS.decide(withdraw, state)))

    assert state.nominations[command.statement.nomination_id].status == "withdrawn"
    with pytest.raises(ChangeRefused):
        WORKERS.decide(withdraw, state)


def test_an_unknown_person_cannot_be_forgotten() -> None:
    with pytest.raises(ChangeRefused) as refused:
        WORKERS.decide(Forget("w1", "admin", "r", 1), WORKERS.initial)

    assert refused.value.status == 404


def test_a_request_is_answered_once() -> None:
    replies = reply_decider()
    reply = NominationAccepted(
        request_event_id=uuid.uuid4(), source_ref="S-1", regency_system="regency-12.17", programme_code="P",
        nomination_id="n1", worker_id="w1",
    )  # fmt: skip
    command = Reply("inbound-1", reply)
    events = replies.decide(command, replies.initial)
    answered = replies.fold([Recorded(e, None) for e in events])  # type: ignore[arg-type]

    assert len(events) == 1 and replies.decide(command, answered) == []


def test_reference_imports_are_numbered_in_sequence() -> None:
    extracts = reference_decider()
    command = ImportExtract("p3ke", "p3ke-1", 10, 0, "a" * 64, AT, "p3ke.csv")
    first = extracts.decide(command, extracts.initial)
    recorded = recorded_as(
        first, stream_id="reference-p3ke", after_version=0, origin=Origin.new(), occurred_at=AT, producer="t"
    )

    (second,) = extracts.decide(command, extracts.fold(recorded))

    assert [first[0].sequence, second.sequence] == [1, 2]  # type: ignore[attr-defined]
