"""The event store on a real PostgreSQL: append, optimistic concurrency, hash chain, append-only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from libs.db import async_url
from libs.events.contracts.registry import NominationWithdrawn
from libs.events.envelope import Envelope
from libs.eventstore.batch import StreamAppend, append_batch
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.eventstore.store import EventStore
from tests.infra import Infra, fresh_database_url
from tests.integration.backbone.support import create_schema

pytestmark = pytest.mark.integration


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


@pytest.fixture(scope="module")
async def store_db(infra: Infra) -> tuple[AsyncEngine, EventStore]:
    url = await asyncio.to_thread(fresh_database_url, infra)
    tables, _ = await create_schema(url, "ledger")
    engine = create_async_engine(async_url(url))
    return engine, EventStore(tables, "ledger")


async def test_append_then_load_keeps_order_and_chains_hashes(
    store_db: tuple[AsyncEngine, EventStore],
) -> None:
    engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    correlation = uuid.uuid4()
    async with engine.begin() as conn:
        first = await store.append(
            conn,
            stream,
            [withdrawn("a", "1"), withdrawn("a", "2")],
            expected_version=0,
            correlation_id=correlation,
        )
        await store.append(
            conn, stream, [withdrawn("a", "3")], expected_version=2, correlation_id=correlation
        )
    async with engine.connect() as conn:
        loaded = await store.load(conn, stream)
        rows = (
            await conn.execute(
                text(
                    "SELECT prev_hash, hash FROM ledger.events"
                    " WHERE aggregate_id=:a ORDER BY aggregate_version"
                ),
                {"a": stream},
            )
        ).all()
        outbox = (
            await conn.execute(text("SELECT count(*) FROM ledger.outbox WHERE key = :k"), {"k": b"a"})
        ).scalar_one()
    assert [e.aggregate_version for e in loaded] == [1, 2, 3]
    assert [e.payload["note"] for e in loaded] == ["1", "2", "3"]
    assert loaded[0].event_id == first[0].event_id
    assert rows[0].prev_hash == GENESIS_HASH
    prev = GENESIS_HASH
    for envelope, row in zip(loaded, rows, strict=True):
        assert row.prev_hash == prev
        assert row.hash == chain_hash(prev, envelope)
        prev = row.hash
    assert outbox >= 3


async def test_stale_expected_version_raises_concurrency_error(
    store_db: tuple[AsyncEngine, EventStore],
) -> None:
    engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    async with engine.begin() as conn:
        await store.append(conn, stream, [withdrawn("b")], expected_version=0, correlation_id=uuid.uuid4())
    async with engine.begin() as conn:
        with pytest.raises(ConcurrencyError) as caught:
            await store.append(
                conn, stream, [withdrawn("b")], expected_version=0, correlation_id=uuid.uuid4()
            )
    assert caught.value.actual_version == 1


async def test_concurrent_appends_at_the_same_version_one_wins(
    store_db: tuple[AsyncEngine, EventStore],
) -> None:
    engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    both_read = asyncio.Barrier(2)

    async def racer(note: str) -> str:
        async with engine.connect() as conn:
            await conn.begin()
            version, _ = await store.head(conn, stream)
            await both_read.wait()
            try:
                await store.append(
                    conn,
                    stream,
                    [withdrawn("c", note)],
                    expected_version=version,
                    correlation_id=uuid.uuid4(),
                )
                await conn.commit()
                return "won"
            except ConcurrencyError:
                await conn.rollback()
                return "lost"

    results = await asyncio.gather(racer("x"), racer("y"))
    assert sorted(results) == ["lost", "won"]
    async with engine.connect() as conn:
        assert len(await store.load(conn, stream)) == 1


async def test_event_rows_cannot_be_updated_or_deleted(store_db: tuple[AsyncEngine, EventStore]) -> None:
    engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    async with engine.begin() as conn:
        await store.append(conn, stream, [withdrawn("d")], expected_version=0, correlation_id=uuid.uuid4())
    for sql in (
        "UPDATE ledger.events SET payload = '{}'::jsonb WHERE aggregate_id = :a",
        "DELETE FROM ledger.events WHERE aggregate_id = :a",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(sql), {"a": stream})


async def _chain(engine: AsyncEngine, stream: str) -> list[tuple[int, str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT aggregate_version, payload->>'note' AS note, prev_hash, hash FROM ledger.events"
                " WHERE aggregate_id=:a ORDER BY aggregate_version"
            ),
            {"a": stream},
        )
        return [(r.aggregate_version, r.note, r.prev_hash, r.hash) for r in rows]


async def test_batch_append_writes_the_chain_and_outbox_rows_of_one_append_per_stream(
    store_db: tuple[AsyncEngine, EventStore],
) -> None:
    engine, store = store_db
    old, new = f"worker-{uuid.uuid4()}", f"worker-{uuid.uuid4()}"
    correlation = uuid.uuid4()
    async with engine.begin() as conn:
        await store.append(conn, old, [withdrawn("o", "1")], expected_version=0, correlation_id=correlation)
    projected: list[str] = []

    async def project(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        projected.extend(f"{e.aggregate_id}@{e.aggregate_version}" for e in envelopes)

    async with engine.begin() as conn:
        head, digest = await store.head(conn, old)
        written = await append_batch(
            conn,
            store,
            [
                StreamAppend(old, [withdrawn("o", "2")], 1),  # head read by the batch
                StreamAppend(new, [withdrawn("n", "1"), withdrawn("n", "2")], 0),
                StreamAppend(old, [withdrawn("o", "3")], 2),  # the same stream again, after itself
                StreamAppend(new, [withdrawn("n", "3")], 2, expected_hash=None),
            ],
            project=project,
            correlation_id=correlation,
        )
    assert head == 1 and digest
    assert projected == [f"{e.aggregate_id}@{e.aggregate_version}" for e in written]
    assert projected == [f"{old}@2", f"{new}@1", f"{new}@2", f"{old}@3", f"{new}@3"]
    for stream, notes in ((old, ["1", "2", "3"]), (new, ["1", "2", "3"])):
        chain = await _chain(engine, stream)
        assert [(v, n) for v, n, _, _ in chain] == list(enumerate(notes, start=1))
        loaded = {e.aggregate_version: e for e in (await _load(engine, store, stream))}
        prev = GENESIS_HASH
        for version, _, prev_hash, digest_ in chain:
            assert prev_hash == prev and digest_ == chain_hash(prev, loaded[version])
            prev = digest_
    async with engine.connect() as conn:
        outbox = (
            await conn.execute(
                text("SELECT count(*) FROM ledger.outbox WHERE event_id = ANY(:ids)"),
                {"ids": [e.event_id for e in written]},
            )
        ).scalar_one()
    assert outbox == len(written) == 5


async def _load(engine: AsyncEngine, store: EventStore, stream: str) -> list[Envelope]:
    async with engine.connect() as conn:
        return await store.load(conn, stream)


async def test_batch_append_refuses_a_stream_that_moved_and_writes_nothing(
    store_db: tuple[AsyncEngine, EventStore],
) -> None:
    engine, store = store_db
    moved, fresh = f"worker-{uuid.uuid4()}", f"worker-{uuid.uuid4()}"
    correlation = uuid.uuid4()
    async with engine.begin() as conn:
        await store.append(conn, moved, [withdrawn("m", "1")], expected_version=0, correlation_id=correlation)

    async def project(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        return None

    batch = [StreamAppend(fresh, [withdrawn("f", "1")], 0), StreamAppend(moved, [withdrawn("m", "2")], 0)]
    with pytest.raises(ConcurrencyError):
        async with engine.begin() as conn:
            await append_batch(conn, store, batch, project=project, correlation_id=correlation)
    # A hash handed in as read (no head query) for a version someone else took: the constraint refuses.
    _, first_hash = (await _chain(engine, moved))[0][2:]
    async with engine.begin() as conn:
        await store.append(conn, moved, [withdrawn("m", "2")], expected_version=1, correlation_id=correlation)
    with pytest.raises(ConcurrencyError):
        async with engine.begin() as conn:
            await append_batch(
                conn,
                store,
                [StreamAppend(moved, [withdrawn("m", "late")], 1, expected_hash=first_hash)],
                project=project,
                correlation_id=correlation,
            )
    assert await _chain(engine, fresh) == []
    assert [n for _, n, _, _ in await _chain(engine, moved)] == ["1", "2"]
