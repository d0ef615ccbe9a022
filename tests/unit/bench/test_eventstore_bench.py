"""The event-store bench's own decider: each command records its nominations in its stream, in
order, after what the stream already holds (run through the kit on the in-memory store)."""

from __future__ import annotations

from libs.eventstore.kit import Origin, StreamKit
from libs.eventstore.memory import InMemoryStore
from lindung_cli.benchmarks.eventstore import BENCH_STREAM, Record, nomination


async def test_a_command_records_its_nominations_in_order_after_the_stream() -> None:
    store = InMemoryStore("bench")
    kit = StreamKit(store)
    first, second = nomination(1), nomination(2)
    await kit.run(BENCH_STREAM, [Record("worker-a", (first, second))], origin=Origin.new())
    [decision] = await kit.run(BENCH_STREAM, [Record("worker-a", (nomination(3),))], origin=Origin.new())
    envelopes = store.events("worker-a")
    assert [e.aggregate_version for e in envelopes] == [1, 2, 3]
    assert [e.payload["worker_id"] for e in envelopes[:2]] == [first.worker_id, second.worker_id]
    assert [r.envelope.aggregate_version for r in decision.recorded] == [3]
    assert all(e.producer == "bench" for e in envelopes)


async def test_the_state_is_the_number_of_events_held_and_any_state_records_the_command() -> None:
    store = InMemoryStore("bench")
    kit = StreamKit(store)
    events = (nomination(4), nomination(5))
    assert BENCH_STREAM.stream_of(Record("worker-b", events)) == "worker-b"
    assert BENCH_STREAM.decide(Record("worker-b", events), 7) == list(events)
    await kit.run(BENCH_STREAM, [Record("worker-b", events)], origin=Origin.new())
    async with store.transaction() as tx:
        loaded = (await tx.load(["worker-b"]))["worker-b"]
    assert BENCH_STREAM.fold(loaded.recorded) == 2
