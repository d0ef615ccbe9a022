"""Which records of the topics a Kafka replay applies, and in which order."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from libs.audit.kafka_source import InboxEntry, Record, parked_ids, select_inputs
from libs.events.contracts.common import Funder
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.events.envelope import Envelope

T = datetime(2026, 3, 1, tzinfo=UTC)
INTERESTED = frozenset({"EnrolledAtBPJS"})


def env(
    producer: str, stream: str, version: int, seconds: int, event_type: str = "X", **payload: object
) -> Envelope:
    return Envelope(
        event_type=event_type,
        schema_version=1,
        occurred_at=T + timedelta(seconds=seconds),
        aggregate_id=stream,
        aggregate_version=version,
        correlation_id=uuid.uuid4(),
        producer=producer,
        payload=dict(payload),
    )


def enrolled(seconds: int, worker: str = "w1") -> Envelope:
    event = EnrolledAtBPJS(
        worker_id=worker,
        programme_code="P",
        funder=Funder.APBD_PROVINSI,
        regency_code="12.17",
        kpj="KPJ1",
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
        request_id=f"{worker}:P",
    )
    return env(
        "enrollment",
        f"registration-{worker}:P",
        2,
        seconds,
        "EnrolledAtBPJS",
        **event.model_dump(mode="json"),
    )


def rec(topic: str, partition: int, offset: int, envelope: Envelope | bytes) -> Record:
    value = envelope if isinstance(envelope, bytes) else envelope.to_bytes()
    return Record(topic, partition, offset, value)


def select(records: list[Record], parked: set[str] | None = None):  # type: ignore[no-untyped-def]
    return select_inputs(
        records,
        producer="claims",
        consumes=("lindung.enrollment.v1",),
        interested=INTERESTED,
        parked=parked or set(),
    )


def test_own_streams_are_put_back_in_version_order_across_partitions() -> None:
    v1, v2, v3 = (env("claims", "claim-1", v, s) for v, s in ((1, 0), (2, 5), (3, 6)))
    other = env("claims", "claim-2", 1, 3)
    found = select(
        [
            rec("lindung.claims.v1", 1, 0, v2),
            rec("lindung.claims.v1", 0, 0, v1),
            rec("lindung.claims.v1", 0, 1, other),
            rec("lindung.claims.v1", 1, 1, v3),
        ]
    )
    assert [(a.envelope.aggregate_id, a.envelope.aggregate_version) for a in found.inputs] == [
        ("claim-1", 1),
        ("claim-2", 1),
        ("claim-1", 2),
        ("claim-1", 3),
    ]
    assert found.own == 4 and found.notes == []


def test_a_version_missing_on_kafka_is_noted() -> None:
    found = select([rec("lindung.claims.v1", 0, 0, env("claims", "claim-1", 2, 0))])
    assert found.notes == ["stream claim-1: versions [1] are not on Kafka"]


def test_consumed_envelopes_follow_the_handler_semantics() -> None:
    first = enrolled(1)
    repeat = first  # redelivered: same event id
    ignored = env("enrollment", "registration-w2:P", 1, 2, "RegistrationRequested")
    parked = enrolled(3, "w3")
    poison = env("enrollment", "registration-w4:P", 2, 4, "EnrolledAtBPJS", kpj="")  # does not decode
    elsewhere = enrolled(5, "w5")
    records = [
        rec("lindung.enrollment.v1", 0, 0, first),
        rec("lindung.enrollment.v1", 0, 1, repeat),
        rec("lindung.enrollment.v1", 0, 2, ignored),
        rec("lindung.enrollment.v1", 1, 0, parked),
        rec("lindung.enrollment.v1", 1, 1, poison),
        rec("lindung.enrollment.v1", 1, 2, b"not json"),
        rec("lindung.other.v1", 0, 0, elsewhere),  # a topic claims does not consume
    ]
    dlq = [rec("lindung.claims.dlq.v1", 0, 0, parked), rec("lindung.claims.dlq.v1", 0, 1, b"raw bytes")]
    found = select(records, parked_ids(dlq))
    assert [a.envelope.event_id for a in found.inputs] == [first.event_id]
    assert all(a.origin == "consumed" for a in found.inputs)
    assert (found.consumed, found.duplicates, found.not_interested, found.parked, found.undecodable) == (
        1,
        1,
        1,
        1,
        1,
    )


def test_consumed_partitions_keep_offset_order_and_merge_with_own_by_time() -> None:
    late, early = enrolled(10, "w1"), enrolled(2, "w2")
    own = env("claims", "claim-1", 1, 5)
    found = select(
        [
            rec("lindung.enrollment.v1", 0, 1, late),
            rec("lindung.enrollment.v1", 0, 0, enrolled(12, "w0")),  # offset 0 first, whatever its time
            rec("lindung.enrollment.v1", 1, 0, early),
            rec("lindung.claims.v1", 0, 0, own),
        ]
    )
    assert [a.envelope.payload.get("worker_id", a.envelope.aggregate_id) for a in found.inputs] == [
        "w2",
        "claim-1",
        "w0",
        "w1",
    ]


def test_with_the_inbox_its_outcome_and_order_decide() -> None:
    first, second, parked, lagging = (
        enrolled(9, "w1"),
        enrolled(1, "w2"),
        enrolled(2, "w3"),
        enrolled(3, "w4"),
    )
    own = env("claims", "claim-1", 1, 5)
    inbox = {
        str(first.event_id): InboxEntry(1, T + timedelta(seconds=4), "applied"),  # applied first, live
        str(second.event_id): InboxEntry(2, T + timedelta(seconds=6), "applied"),
        str(parked.event_id): InboxEntry(3, T + timedelta(seconds=7), "parked"),
        "00000000-0000-0000-0000-00000000abcd": InboxEntry(4, T + timedelta(seconds=8), "applied"),
    }
    found = select_inputs(
        [
            rec("lindung.enrollment.v1", 1, 0, second),
            rec("lindung.enrollment.v1", 0, 0, first),
            rec("lindung.enrollment.v1", 2, 0, parked),
            rec("lindung.enrollment.v1", 3, 0, lagging),  # on the topic, not consumed yet
            rec("lindung.claims.v1", 0, 0, own),
        ],
        producer="claims",
        consumes=("lindung.enrollment.v1",),
        interested=INTERESTED,
        parked=set(),
        inbox=inbox,
    )
    assert [a.envelope.payload.get("worker_id", a.envelope.aggregate_id) for a in found.inputs] == [
        "w1",  # inbox position 1 (consumed at 4 s)
        "claim-1",  # own event at 5 s
        "w2",  # inbox position 2 (consumed at 6 s)
    ]
    assert (found.parked, found.not_in_inbox) == (1, 1)
    assert found.notes == ["1 envelopes the inbox applied are not on Kafka"]
