"""The store contract: what every implementation of libs/eventstore/ports.py must do.

One set of cases (the eventsourcing library's recorder contract, arroyo's backend mixins), run
unchanged against the in-memory store (test_memory_store.py) and PostgreSQL
(test_postgres_store.py). A subclass provides `store`, a fresh empty store per test.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Sequence

import pytest

from libs.events.contracts.registry import NominationWithdrawn
from libs.events.envelope import Envelope
from libs.eventstore.decider import Decider, Recorded
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH, chain_hash, chain_hash_of_text
from libs.eventstore.kit import Origin, RetryPolicy, StreamKit, handle
from libs.eventstore.ports import (
    DeadLetter,
    InboxEntry,
    OutboxMessage,
    PendingAppend,
    Store,
    StoreTransaction,
)
from tests.support import appending


def withdrawn(worker: str, note: str = "") -> NominationWithdrawn:
    return NominationWithdrawn(
        worker_id=worker,
        nomination_id=f"n-{worker}",
        programme_code="TEST",
        regency_code="12.17",
        reason="moved",
        note=note,
        withdrawn_by="test",
    )


def pending(
    store: Store, stream: str, after: int, *notes: str, expected_hash: str | None = None
) -> PendingAppend:
    """Notes about worker `stream`, to append at the versions after `after`."""
    return appending.pending(
        store, stream, [withdrawn(stream, note) for note in notes], after=after, expected_hash=expected_hash
    )


# A toy decider: a stream of notes about one worker; a command adds notes unless the stream
# already holds `limit` of them (then it is refused).
Notes = tuple[str, ...]


def _decide(command: tuple[str, str], state: Notes) -> Sequence[NominationWithdrawn]:
    worker, note = command
    if len(state) >= 3:
        raise ValueError("full")
    return [withdrawn(worker, note)]


def _evolve(state: Notes, recorded: Recorded) -> Notes:
    assert isinstance(recorded.event, NominationWithdrawn)
    return (*state, recorded.event.note)


NOTES: Decider[tuple[str, str], Notes] = Decider(
    kind="notes", initial=(), evolve=_evolve, decide=_decide, stream_of=lambda command: f"notes-{command[0]}"
)


class StoreContract:
    """Cases every store passes; `store` is a fresh, empty store."""

    async def test_new_stream_is_empty_at_version_zero(self, store: Store) -> None:
        async with store.transaction() as tx:
            loaded = await tx.load(["nobody"])
        assert loaded["nobody"].recorded == []
        assert (loaded["nobody"].version, loaded["nobody"].last_hash) == (0, GENESIS_HASH)

    async def test_append_then_load_keeps_order_versions_and_chain(self, store: Store) -> None:
        async with store.transaction() as tx:
            await tx.append([pending(store, "s", 0, "1", "2")])
        async with store.transaction() as tx:
            await tx.append([pending(store, "s", 2, "3")])
        async with store.transaction() as tx:
            loaded = (await tx.load(["s"]))["s"]
        assert [r.envelope.aggregate_version for r in loaded.recorded] == [1, 2, 3]
        assert [r.event.note for r in loaded.recorded] == ["1", "2", "3"]  # type: ignore[attr-defined]
        digest = GENESIS_HASH
        for recorded in loaded.recorded:
            digest = chain_hash(digest, recorded.envelope)
        assert (loaded.version, loaded.last_hash) == (3, digest)

    async def test_stale_version_is_a_concurrency_error_and_writes_nothing(self, store: Store) -> None:
        async with store.transaction() as tx:
            await tx.append([pending(store, "s", 0, "first")])
        with pytest.raises(ConcurrencyError):
            async with store.transaction() as tx:
                await tx.append([pending(store, "s", 0, "stale")])
        async with store.transaction() as tx:
            assert [r.event.note for r in (await tx.load(["s"]))["s"].recorded] == ["first"]  # type: ignore[attr-defined]

    async def test_a_writer_that_read_before_another_committed_loses(self, store: Store) -> None:
        late = store.transaction()
        tx_late = await late.__aenter__()
        seen = (await tx_late.load(["s"]))["s"]
        async with store.transaction() as tx:
            await tx.append([pending(store, "s", 0, "winner")])
        with pytest.raises(ConcurrencyError):
            try:
                await tx_late.append(
                    [pending(store, "s", seen.version, "loser", expected_hash=seen.last_hash)]
                )
            except BaseException:
                await late.__aexit__(*sys.exc_info())
                raise
            await late.__aexit__(None, None, None)
        async with store.transaction() as tx:
            assert (await tx.load(["s"]))["s"].version == 1

    async def test_batch_appends_many_streams_and_repeats_in_order(self, store: Store) -> None:
        async with store.transaction() as tx:
            written = await tx.append(
                [pending(store, "a", 0, "a1"), pending(store, "b", 0, "b1"), pending(store, "a", 1, "a2")]
            )
        assert [r.envelope.aggregate_id for r in written] == ["a", "b", "a"]
        async with store.transaction() as tx:
            loaded = await tx.load(["a", "b", "c"])
        assert [r.event.note for r in loaded["a"].recorded] == ["a1", "a2"]  # type: ignore[attr-defined]
        assert loaded["b"].version == 1 and loaded["c"].version == 0
        digest = GENESIS_HASH
        for recorded in loaded["a"].recorded:
            digest = chain_hash(digest, recorded.envelope)
        assert loaded["a"].last_hash == digest

    async def test_rollback_leaves_nothing(self, store: Store) -> None:
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.append([pending(store, "s", 0, "gone")])
                await tx.claim_inbox([_entry(uuid.uuid4())])
                raise RuntimeError("abort")
        async with store.transaction() as tx:
            assert (await tx.load(["s"]))["s"].version == 0
            assert await tx.unsent(10) == []

    async def test_outbox_queues_appended_events_in_order_until_sent(self, store: Store) -> None:
        async with store.transaction() as tx:
            written = await tx.append([pending(store, "w1", 0, "1"), pending(store, "w2", 0, "2")])
            await tx.enqueue(OutboxMessage(topic="lindung.dlq.test", key=None, value=b"copy", headers=[]))
        async with store.transaction() as tx:
            queued = await tx.unsent(10)
        assert [m.event_id for m in queued] == [r.envelope.event_id for r in written] + [None]
        assert [m.key for m in queued] == [b"w1", b"w2", None]
        assert queued[0].topic == NominationWithdrawn.topic
        assert ["event_type", "NominationWithdrawn"] in queued[0].headers
        assert queued[0].id < queued[1].id < queued[2].id
        async with store.transaction() as tx:
            await tx.mark_sent([queued[0].id])
        async with store.transaction() as tx:
            assert [m.id for m in await tx.unsent(10)] == [queued[1].id, queued[2].id]
            assert [m.id for m in await tx.unsent(1)] == [queued[1].id]

    async def test_the_outbox_sends_the_text_the_chain_hashes(self, store: Store) -> None:
        # Serialised once: the value sent is the envelope's canonical JSON, the text its hash covers.
        async with store.transaction() as tx:
            await tx.append([pending(store, "w1", 0, "1", "2")])
        async with store.transaction() as tx:
            queued = await tx.unsent(10)
            loaded = (await tx.load(["w1"]))["w1"]
        digest = GENESIS_HASH
        for message, recorded in zip(queued, loaded.recorded, strict=True):
            assert message.value == recorded.envelope.canonical().encoded()
            assert Envelope.from_bytes(message.value) == recorded.envelope
            digest = chain_hash_of_text(digest, message.value.decode())
        assert loaded.last_hash == digest

    async def test_inbox_claims_each_event_once(self, store: Store) -> None:
        first, second = uuid.uuid4(), uuid.uuid4()
        async with store.transaction() as tx:
            assert await tx.claim_inbox([_entry(first)]) == {first}
        async with store.transaction() as tx:
            assert await tx.claim_inbox([_entry(first), _entry(second)]) == {second}

    async def test_a_message_is_parked_once(self, store: Store) -> None:
        letter = DeadLetter(None, "t", 0, 7, None, b"x", "ValueError", "bad", 1)
        async with store.transaction() as tx:
            assert await tx.park(letter) is True
        async with store.transaction() as tx:
            assert await tx.park(letter) is False

    async def test_kit_decides_a_batch_in_order_and_one_refusal_aborts_it(self, store: Store) -> None:
        kit = StreamKit(store, retry=RetryPolicy(attempts=2, backoff_s=0))
        decisions = await kit.run(NOTES, [("x", "1"), ("y", "1"), ("x", "2")], origin=Origin.new())
        assert [d.recorded[0].envelope.aggregate_version for d in decisions] == [1, 1, 2]
        with pytest.raises(ValueError, match="full"):
            await kit.run(NOTES, [("y", "2"), ("x", "3"), ("x", "4")], origin=Origin.new())
        async with store.transaction() as tx:
            loaded = await tx.load(["notes-x", "notes-y"])
        assert loaded["notes-x"].version == 2 and loaded["notes-y"].version == 1

    async def test_kit_decides_again_after_losing_a_race(self, store: Store) -> None:
        woken: list[int] = []
        kit = StreamKit(
            store, retry=RetryPolicy(attempts=3, backoff_s=0), after_commit=lambda: woken.append(1)
        )
        attempts = 0

        async def work(tx: StoreTransaction) -> int:
            nonlocal attempts
            attempts += 1
            seen = (await tx.load(["notes-z"]))["notes-z"]
            if attempts == 1:  # another writer appends between this transaction's read and write
                async with store.transaction() as other:
                    await handle(other, NOTES, [("z", "other")], origin=Origin.new())
            mine = pending(store, "notes-z", seen.version, "mine", expected_hash=seen.last_hash)
            await tx.append([mine])
            return seen.version

        assert await kit.transact(work) == 1
        assert (attempts, woken) == (2, [1])


def _entry(event_id: uuid.UUID) -> InboxEntry:
    return InboxEntry(
        event_id, "NominationWithdrawn", "lindung.registry.events", 0, 1, {"event_id": str(event_id)}
    )
