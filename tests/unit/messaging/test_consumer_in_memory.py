"""The inbox consumer on the in-memory store (arroyo's local backend): exactly once, or parked.

The same consumer runs on PostgreSQL and a real broker in tests/integration/backbone; here its
rules are checked without either: records go in as a broker hands them over, the results are
read from the store (inbox, dead letters, outbox) and the reactor's writes."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.structs import ConsumerRecord

from libs.events.contracts.registry import NominationWithdrawn
from libs.events.envelope import Envelope
from libs.events.signing import Keyring, Signer, keyring_json
from libs.eventstore.memory import InMemoryStore
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed, InboxConsumer
from tests.support.appending import append
from tests.support.envelopes import envelope_of

TOPIC = "test.ledger.v1"  # no allow-list: any producer may write it


def withdrawn(worker: str, note: str) -> NominationWithdrawn:
    return NominationWithdrawn(
        worker_id=worker,
        nomination_id=f"n-{worker}",
        programme_code="TEST",
        regency_code="12.17",
        reason="moved",
        note=note,
        withdrawn_by="test",
    )


class Ledger:
    """Records a copy of each consumed withdrawal in a stream of its own; a "poison" note always fails."""

    interested = frozenset({NominationWithdrawn.event_type})

    def __init__(self) -> None:
        self.answered: list[str] = []

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        for item in items:
            assert isinstance(item.event, NominationWithdrawn)
            if item.event.note == "poison":
                raise ValueError("this event can never be applied")
            await append(tx, f"copy-{item.envelope.event_id}", [item.event])

    async def parked(
        self,
        tx: StoreTransaction,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None:
        self.answered.append(type(error).__name__)


def record(
    value: bytes, offset: int, headers: Sequence[tuple[str, bytes]] = ()
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(TOPIC, 0, offset, 0, 0, b"k", value, None, len(value), 0, tuple(headers))


def consumer(store: InMemoryStore, ledger: Ledger, keyring: Keyring | None = None) -> InboxConsumer:
    return InboxConsumer(
        store,
        ledger,
        group="ledger",
        dead_letter_topic="lindung.dlq.ledger",
        max_attempts=2,
        retry_backoff_s=0,
        keyring=keyring,
    )


async def test_each_event_is_applied_once_and_a_poison_one_is_parked_with_an_answer() -> None:
    store, ledger = InMemoryStore("ledger"), Ledger()
    first = envelope_of(withdrawn("a", "first"), "registry", "worker-a")
    poison = envelope_of(withdrawn("b", "poison"), "registry", "worker-b")
    after = envelope_of(withdrawn("c", "after"), "registry", "worker-c")
    running = consumer(store, ledger)
    batch = [record(e.to_bytes(), i) for i, e in enumerate((first, poison, after))]
    await running.handle_records(batch)
    await running.handle_records(batch[:1])  # redelivered after a rebalance

    # What the reactor wrote is committed once per event (the failed batch's writes rolled back).
    assert [e.payload["note"] for e in store.log] == ["first", "after"]
    assert (running.applied, running.duplicates, running.parked) == (2, 1, 1)
    outcomes = {entry.event_id: entry.outcome for entry in store.inbox.values()}
    assert outcomes == {first.event_id: "applied", poison.event_id: "parked", after.event_id: "applied"}
    [letter] = store.dead_letters.values()
    assert (letter.offset, letter.error_type, letter.attempts) == (1, "ValueError", 2)
    assert ledger.answered == ["ValueError"]
    dlq = [m for m in store.outbox if m.topic == "lindung.dlq.ledger"]
    assert [m.value for m in dlq] == [poison.to_bytes()]
    assert len([m for m in store.outbox if m.topic == NominationWithdrawn.topic]) == 2


async def test_unreadable_and_unsigned_records_are_parked_at_once() -> None:
    store, ledger = InMemoryStore("ledger"), Ledger()
    signer = Signer.generate("registry-1")
    keyring = Keyring.parse(keyring_json([signer.trusted("registry")]))
    good = envelope_of(withdrawn("a", "signed"), "registry", "worker-a")
    unsigned = envelope_of(withdrawn("b", "unsigned"), "registry", "worker-b")
    running = consumer(store, ledger, keyring)
    await running.handle_records(
        [
            record(good.to_bytes(), 0, signer.headers(good.to_bytes())),
            record(unsigned.to_bytes(), 1),
            record(b"not json", 2, signer.headers(b"not json")),
        ]
    )
    assert [e.payload["note"] for e in store.log] == ["signed"]
    parked = sorted(
        (letter.offset, letter.error_type, letter.attempts) for letter in store.dead_letters.values()
    )
    assert parked == [(1, "SignatureRefused", 1), (2, "ValidationError", 1)]
    # A record refused for its signature keeps no inbox row: an unproven copy never takes an event id.
    assert unsigned.event_id not in store.inbox
