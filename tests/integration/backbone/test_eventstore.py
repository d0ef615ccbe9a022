"""The event store on a real PostgreSQL: append, optimistic concurrency, hash chain, append-only."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.db import async_url
from libs.events.contracts.registry import NominationWithdrawn
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
