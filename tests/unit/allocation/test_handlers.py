"""Allocation's handlers on the in-memory store: the consumer's reactor and the admin's commands
decide through the stream kit, without PostgreSQL (holds in other programmes come from a fake)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiokafka.structs import ConsumerRecord

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.registry import NominationWithdrawn, PersonForgotten, WorkerValidated
from libs.eventstore.kit import StreamKit
from libs.eventstore.memory import InMemoryStore
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed
from services.allocation.application.commands import Commands, Refused
from services.allocation.application.handlers import AllocationHandler
from services.allocation.application.ports import NoCache
from services.allocation.bootstrap import build_allocation
from services.allocation.domain.cross_programme import ProgrammeHold
from services.allocation.domain.period import Period
from services.allocation.domain.programme_commands import WorkerHolds
from services.allocation.domain.programme_facts import ProgrammeNotDefined
from services.allocation.domain.quota_wire import stream_of
from tests.support.envelopes import envelope_of
from tests.unit.allocation.factories import COST, programme, validated_event

T0 = datetime(2025, 1, 5, 8, 0, tzinfo=UTC)
CODE = "SUMUT-2025"
STREAM = stream_of(CODE)


@dataclass
class FakeReadModels:
    """Holds in other programmes as a test sets them; forgotten people as a list."""

    holds: dict[str, list[ProgrammeHold]] = field(default_factory=dict)
    forgotten: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    async def holds_of(
        self, tx: StoreTransaction, workers: Mapping[str, int | None], except_programme: str
    ) -> dict[str, WorkerHolds]:
        self.asked += list(workers)
        return {
            w: WorkerHolds(
                seq, tuple(h for h in self.holds.get(w, []) if h.programme_code != except_programme)
            )
            for w, seq in workers.items()
        }

    async def forget_person(self, tx: StoreTransaction, worker_id: str) -> None:
        self.forgotten.append(worker_id)


@dataclass
class World:
    store: InMemoryStore
    kit: StreamKit
    commands: Commands
    reactor: AllocationHandler
    read_models: FakeReadModels

    async def consume(self, events: Sequence[DomainEvent]) -> None:
        """One consumer batch, as the consumer hands it over (one transaction)."""
        async with self.store.transaction() as tx:
            await self.reactor.react(tx, [consumed(e, n) for n, e in enumerate(events)])

    def recorded(self, stream: str = STREAM) -> list[tuple[str, str | None]]:
        return [(e.event_type, e.payload.get("worker_id")) for e in self.store.events(stream)]


def world() -> World:
    store = InMemoryStore("allocation")
    read_models = FakeReadModels()
    commands, reactor = build_allocation(states=NoCache(), read_models=read_models)
    return World(store, StreamKit(store), commands, reactor, read_models)


def consumed(event: DomainEvent, offset: int = 0) -> Consumed:
    envelope = envelope_of(event, "registry", f"nomination-{uuid.uuid4()}")
    record = ConsumerRecord("lindung.registry.v1", 0, offset, 0, 0, None, envelope.to_bytes(), None, 0, 0, ())
    return Consumed(record, envelope, event, envelope)


def validated(worker: str, minutes: int, decile: int | None = 1) -> WorkerValidated:
    return validated_event(worker, minutes, decile, code=CODE)


def withdrawn(worker: str, reason: str = "moved") -> NominationWithdrawn:
    return NominationWithdrawn(
        worker_id=worker,
        nomination_id=f"n-{worker}",
        programme_code=CODE,
        regency_code="12.71",
        reason=reason,
        withdrawn_by="test",
    )


async def defined(w: World, seats: int = 3, affordable: int = 100, **overrides: object) -> None:
    quotas = [{"regency": "12.71", "sector": "sawit", "seats": seats}]
    assert await w.commands.define_programme(
        w.kit, programme(quotas=quotas, budget_cap=affordable * COST, **overrides)
    )


async def test_a_programme_is_defined_once() -> None:
    w = world()
    await defined(w)
    assert not await w.commands.define_programme(
        w.kit, programme(quotas=[{"regency": "12.71", "sector": "sawit", "seats": 3}], budget_cap=100 * COST)
    )
    assert w.recorded() == [("ProgrammeDefined", None)]
    assert len(w.store.outbox) == 1


async def test_a_batch_is_seated_within_quota_then_waitlisted() -> None:
    w = world()
    await defined(w, seats=2)
    await w.consume([validated("c", 3), validated("a", 1), validated("b", 2)])
    assert w.recorded()[1:] == [("QuotaAssigned", "a"), ("QuotaAssigned", "b"), ("QuotaWaitlisted", "c")]
    assert sorted(w.read_models.asked) == ["a", "b", "c"]


async def test_a_batch_decides_as_one_by_one() -> None:
    batch = [validated(f"w{n}", n, decile=1 + n % 2) for n in range(8)] + [validated("w3", 3)]
    together, alone = world(), world()
    for w in (together, alone):
        await defined(w, seats=3, affordable=5)
    await together.consume(batch)
    for event in batch:
        await alone.consume([event])
    assert together.recorded() == alone.recorded()
    payloads = [e.payload for e in together.store.events(STREAM)]
    assert payloads == [e.payload for e in alone.store.events(STREAM)]
    # Before the decree desil 1 takes the seats of desil 2 (seats are provisional): w4, w6 seated.
    assert ("QuotaUnseated", "w1") in together.recorded()


async def test_the_budget_caps_the_seats() -> None:
    w = world()
    await defined(w, seats=5, affordable=2)
    await w.consume([validated("a", 1), validated("b", 2), validated("c", 3)])
    waitlisted = [e for e in w.store.events(STREAM) if e.event_type == "QuotaWaitlisted"]
    assert [e.payload["reason"] for e in waitlisted] == ["no_budget"]


async def test_a_release_seats_the_next_in_line() -> None:
    w = world()
    await defined(w, seats=1)
    await w.consume([validated("a", 1), validated("b", 2)])
    await w.consume([withdrawn("a", "died")])
    assert w.recorded()[-2:] == [("QuotaReleased", "a"), ("QuotaAssigned", "b")]
    released = w.store.events(STREAM)[-2]
    assert released.payload["reason"] == "died"
    assert w.store.events(STREAM)[-1].payload["promoted"] is True


async def test_a_worker_held_elsewhere_is_declined_and_a_seat_taken_elsewhere_released() -> None:
    w = world()
    await defined(w, seats=2, requires_decree=True)
    period = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    # "x" holds a final seat in OTHER: declined here. "y" waits in OTHER: seated here, and asked
    # to leave OTHER's waitlist (a follow-up on OTHER's stream, which this fake never defined).
    w.read_models.holds["x"] = [ProgrammeHold("OTHER", period, T0, final=True)]
    await w.consume([validated("x", 1)])
    assert w.recorded()[-1] == ("QuotaDeclined", "x")
    w.read_models.holds["y"] = [ProgrammeHold("OTHER", period, T0, waiting=True)]
    with pytest.raises(ProgrammeNotDefined):
        await w.consume([validated("y", 2)])
    assert w.recorded()[-1] == ("QuotaDeclined", "x")  # the batch was not recorded


async def test_a_promotion_asks_for_the_holds_of_who_it_seats() -> None:
    w = world()
    await defined(w, seats=1)
    await w.consume([validated("a", 1), validated("b", 2), validated("c", 3)])
    period = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    w.read_models.holds["b"] = [ProgrammeHold("OTHER", period, T0, final=True)]
    w.read_models.asked.clear()
    await w.consume([withdrawn("a")])
    # b's turn came, but OTHER keeps b: released from the waitlist, the seat goes on to c.
    assert w.recorded()[-3:] == [("QuotaReleased", "a"), ("QuotaReleased", "b"), ("QuotaAssigned", "c")]
    assert w.read_models.asked == ["b", "c"]


async def test_seat_and_budget_changes_reflow_the_waitlist() -> None:
    w = world()
    await defined(w, seats=1)
    await w.consume([validated("a", 1), validated("b", 2)])
    result = await w.commands.set_seats(w.kit, CODE, "12.71", "sawit", 2, "surat")
    assert (result.changed, result.promoted) == (True, ["b"])
    assert result.events == ["QuotaChanged", "QuotaAssigned"]
    cut = await w.commands.set_budget(w.kit, CODE, COST, "APBD-P")
    assert cut.events == ["BudgetChanged"]
    with pytest.raises(Refused) as refused:
        await w.commands.move_seats(w.kit, CODE, ("12.71", "sawit"), ("12.04", "non_sawit"), 5, "")
    assert (refused.value.code, refused.value.details) == ("MOVE_NOT_ENOUGH_SEATS", {"available": 2})
    with pytest.raises(Refused, match="SEATS_INVALID"):
        await w.commands.set_seats(w.kit, "NOPE", "12.71", "sawit", -1, "")


async def test_a_decree_fixes_the_list_and_a_later_one_records_the_change() -> None:
    w = world()
    await defined(w, seats=2)
    await w.consume([validated("a", 1), validated("b", 2), validated("c", 3)])
    first = await w.commands.issue_decree(w.kit, CODE, "188/1", dt.date(2025, 2, 1), "Gubernur")
    assert (first.created, first.version, first.worker_count, first.added) == (True, 1, 2, 2)
    again = await w.commands.issue_decree(w.kit, CODE, "188/1", dt.date(2025, 2, 1), "Gubernur")
    assert again == first.__class__(**{**vars(first), "created": False})
    decreed = [e.payload["worker_id"] for e in w.store.events(STREAM) if e.event_type == "AssignmentDecreed"]
    assert decreed == ["a", "b"]
    await w.consume([withdrawn("b")])  # c takes b's seat
    second = await w.commands.issue_decree(w.kit, CODE, "188/2", dt.date(2025, 3, 1), "Gubernur")
    assert (second.version, second.added, second.removed, second.supersedes) == (2, 1, 1, "188/1")
    with pytest.raises(Refused, match="DECREE_UNCHANGED"):
        await w.commands.issue_decree(w.kit, CODE, "188/3", dt.date(2025, 4, 1), "Gubernur")
    with pytest.raises(Refused, match="DECREE_NUMBER_USED"):
        await w.commands.issue_decree(w.kit, CODE, "188/2", dt.date(2025, 4, 1), "Gubernur")
    # After the decree seats are final: a later poorer worker waits instead of taking one.
    await w.consume([validated("d", 0)])
    assert w.recorded()[-1] == ("QuotaWaitlisted", "d")


async def test_a_forgotten_person_leaves_the_read_models_only() -> None:
    w = world()
    await defined(w)
    forgotten = PersonForgotten(worker_id="a", forgotten_by="dpo", reason="request", key_generation=1)
    await w.consume([forgotten])
    assert w.read_models.forgotten == ["a"]
    assert w.recorded() == [("ProgrammeDefined", None)]
