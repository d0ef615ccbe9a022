"""The dashboard's Reactor on the in-memory store: a consumed batch becomes one set of read-model
changes and its minimised inbox copies; nothing is decided, nothing appended, nothing personal kept."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiokafka.structs import ConsumerRecord

from libs.events import Envelope, decode
from libs.eventstore.memory import InMemoryStore
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed, InboxConsumer
from services.dashboard.adapters.projections import SqlReadModels
from services.dashboard.application.handlers import DashboardReactor
from services.dashboard.domain.consumed import fact_of
from services.dashboard.domain.read_model import Changes, changes_of
from tests.unit.dashboard.test_facts import PERSONAL_FIELDS, every_kind_of_event


class RecordedReadModels:
    """The read models as written, batch by batch (the SQL is adapters/projections.py's)."""

    def __init__(self) -> None:
        self.batches: list[tuple[Changes, list[Envelope]]] = []

    async def write(self, tx: StoreTransaction, changes: Changes, kept: Sequence[Envelope]) -> None:
        self.batches.append((changes, list(kept)))


def consumed(envelope: Envelope, offset: int = 0) -> Consumed:
    record = ConsumerRecord("topic", 0, offset, 0, 0, None, envelope.to_bytes(), None, 0, 0, ())
    return Consumed(record, envelope, decode(envelope), envelope)


async def test_a_batch_is_projected_once_and_its_inbox_keeps_the_minimised_copies() -> None:
    envelopes, personal = every_kind_of_event()
    store, read_models = InMemoryStore("dashboard"), RecordedReadModels()
    reactor = DashboardReactor(read_models)
    consumer = InboxConsumer(
        store, reactor, group="dashboard", dead_letter_topic="dlq", max_attempts=1, retry_backoff_s=0
    )
    await consumer.handle_records([consumed(e, i).record for i, e in enumerate(envelopes)])
    [(changes, rewritten)] = read_models.batches
    assert rewritten == []  # the consumer wrote each inbox row once, already minimised
    kept = [Envelope.model_validate(store.inbox[e.event_id].envelope) for e in envelopes]
    for copy in kept:
        assert not [v for v in personal if v in copy.model_dump_json()], copy.event_type
        assert not PERSONAL_FIELDS & set(copy.payload)
    # The rows are those of the kept copies, which is what an audit replays from the inbox.
    replayed = changes_of([(fact, k.occurred_at) for k in kept if (fact := fact_of(k)) is not None])
    assert changes == replayed
    assert changes.written("placements") and changes.written("claims")
    # The dashboard decides nothing: no stream, no outbox message.
    assert store.log == [] and store.outbox == []


def test_an_unreadable_fact_is_copied_as_its_metadata_only() -> None:
    envelopes, _ = every_kind_of_event()
    rejected = next(e for e in envelopes if e.event_type == "WorkerRejected")
    broken = rejected.model_copy(update={"payload": {**rejected.payload, "reasons": []}})
    item = Consumed(consumed(rejected).record, broken, decode(rejected), broken)
    copy = DashboardReactor(RecordedReadModels()).inbox_copy(item)
    assert copy.payload == {} and copy.event_id == rejected.event_id


async def test_an_unreadable_fact_fails_the_batch() -> None:
    envelopes, _ = every_kind_of_event()
    rejected = next(e for e in envelopes if e.event_type == "WorkerRejected")
    broken = rejected.model_copy(update={"payload": {**rejected.payload, "reasons": []}})
    reactor = DashboardReactor(RecordedReadModels())
    item = Consumed(consumed(rejected).record, broken, decode(rejected), broken)
    async with InMemoryStore("dashboard").transaction() as tx:
        with pytest.raises(ValueError):
            await reactor.react(tx, [consumed(envelopes[0]), item])


async def test_a_parked_event_keeps_its_minimised_copy_or_only_its_metadata() -> None:
    envelopes, personal = every_kind_of_event()
    read_models = RecordedReadModels()
    reactor = DashboardReactor(read_models)
    nominated = next(e for e in envelopes if e.event_type == "WorkerNominated")
    unreadable = nominated.model_copy(update={"payload": {"nik": personal[0]}})
    record = consumed(nominated).record
    async with InMemoryStore("dashboard").transaction() as tx:
        await reactor.parked(tx, record, nominated, RuntimeError("x"))
        await reactor.parked(tx, record, unreadable, RuntimeError("x"))
        await reactor.parked(tx, record, None, RuntimeError("x"))
    [(first, [readable_copy]), (second, [metadata])] = read_models.batches
    assert first.empty and second.empty
    assert readable_copy.payload and personal[0] not in readable_copy.model_dump_json()
    assert metadata.payload == {} and metadata.event_id == nominated.event_id


async def test_the_sql_read_models_need_a_postgresql_transaction() -> None:
    async with InMemoryStore("dashboard").transaction() as tx:
        with pytest.raises(TypeError):
            await SqlReadModels().write(tx, Changes(), [])
