"""The consumer passes by records of types its service does not take, by their `event_type`
header and without parsing them (issue 17); what must still be refused or parked is parsed."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.structs import ConsumerRecord

from libs.events import topics
from libs.events.signing import Keyring, Signer, keyring_json
from libs.eventstore.memory import InMemoryStore
from libs.messaging.record_headers import header_of, passes_by
from tests.support.envelopes import envelope_of
from tests.unit.messaging.test_consumer_in_memory import TOPIC, Ledger, consumer, withdrawn

GARBAGE = b"{ not an envelope"


def headers(event_type: str, producer: str = "registry") -> list[tuple[str, bytes]]:
    return [("event_type", event_type.encode()), ("schema_version", b"1"), ("producer", producer.encode())]


def on(
    topic: str, value: bytes, offset: int, head: Sequence[tuple[str, bytes]]
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, 0, offset, 0, 0, b"k", value, None, len(value), 0, tuple(head))


async def test_a_type_the_service_does_not_take_is_passed_by_unparsed() -> None:
    store, ledger = InMemoryStore("ledger"), Ledger()
    wanted = envelope_of(withdrawn("a", "wanted"), "registry", "worker-a")
    running = consumer(store, ledger)
    await running.handle_records(
        [
            # Garbage under a header of another type: never parsed, so never parked.
            on(TOPIC, GARBAGE, 0, headers("WorkerNominated")),
            on(TOPIC, wanted.canonical().encoded(), 1, headers("NominationWithdrawn")),
        ]
    )
    assert [e.payload["note"] for e in store.log] == ["wanted"]
    assert (running.applied, running.passed_by, running.parked) == (1, 1, 0)


async def test_without_the_header_a_record_is_parsed_as_before() -> None:
    store, ledger = InMemoryStore("ledger"), Ledger()
    running = consumer(store, ledger)
    other = envelope_of(None, "registry", "worker-a", event_type="WorkerNominated", payload={})
    await running.handle_records([on(TOPIC, GARBAGE, 0, []), on(TOPIC, other.to_bytes(), 1, [])])
    # Garbage is parked; a whole envelope of another type is parsed and passed over, as before.
    assert (running.applied, running.passed_by, running.parked) == (0, 0, 1)


async def test_a_type_not_published_on_a_foreign_topic_is_still_parked() -> None:
    store, ledger = InMemoryStore("ledger"), Ledger()
    stray = envelope_of(None, "bpjs", "kpj-1", event_type="WorkerNominated", payload={})
    running = consumer(store, ledger)
    await running.handle_records([on(topics.BPJS_CLAIMS, stray.to_bytes(), 0, headers("WorkerNominated"))])
    [letter] = store.dead_letters.values()
    assert (letter.error_type, letter.event_id, running.passed_by) == ("UnknownEventType", stray.event_id, 0)


async def test_signatures_come_first_and_a_signed_record_is_parsed_when_its_producer_header_differs() -> None:
    store, ledger = InMemoryStore("ledger"), Ledger()
    signer = Signer.generate("registry-1")
    keyring = Keyring.parse(keyring_json([signer.trusted("registry")]))
    claims = envelope_of(None, "claims", "worker-a", event_type="WorkerNominated", payload={})
    fine = envelope_of(None, "registry", "worker-b", event_type="WorkerNominated", payload={})
    running = consumer(store, ledger, keyring)
    await running.handle_records(
        [
            on(TOPIC, GARBAGE, 0, headers("WorkerNominated")),  # unsigned: refused before its header
            on(
                TOPIC,
                claims.to_bytes(),
                1,
                [*headers("WorkerNominated", "claims"), *signer.headers(claims.to_bytes())],
            ),
            on(TOPIC, fine.to_bytes(), 2, [*headers("WorkerNominated"), *signer.headers(fine.to_bytes())]),
        ]
    )
    parked = sorted((letter.offset, letter.error_type) for letter in store.dead_letters.values())
    assert parked == [(0, "SignatureRefused"), (1, "SignatureRefused")]
    assert running.passed_by == 1


def test_a_header_that_is_not_text_is_no_header() -> None:
    record = on(TOPIC, GARBAGE, 0, [("event_type", b"\xff\xfe")])
    assert header_of(record, "event_type") is None
    assert not passes_by(record, frozenset({"NominationWithdrawn"}), None)
