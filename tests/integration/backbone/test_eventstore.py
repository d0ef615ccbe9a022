"""The event store on a real PostgreSQL (the kit's PostgresStore): append, optimistic concurrency,
hash chain, append-only."""

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
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.eventstore.kit import Origin
from libs.eventstore.postgres import PostgresStore
from tests.infra import Infra, fresh_database_url
from tests.integration.backbone.support import create_schema
from tests.support.appending import append, pending

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
async def store_db(infra: Infra) -> tuple[AsyncEngine, PostgresStore]:
    url = await asyncio.to_thread(fresh_database_url, infra)
    tables, _ = await create_schema(url, "ledger")
    engine = create_async_engine(async_url(url))
    return engine, PostgresStore(engine, tables, "ledger")


async def test_append_then_load_keeps_order_and_chains_hashes(
    store_db: tuple[AsyncEngine, PostgresStore],
) -> None:
    engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    correlation = uuid.uuid4()
    origin = Origin(correlation)
    async with store.transaction() as tx:
        first = await append(tx, stream, [withdrawn("a", "1"), withdrawn("a", "2")], origin=origin)
        await append(tx, stream, [withdrawn("a", "3")], after=2, origin=origin)
    loaded = await _load(engine, store, stream)
    async with engine.connect() as conn:
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
    assert loaded[0].event_id == first[0].envelope.event_id
    assert rows[0].prev_hash == GENESIS_HASH
    prev = GENESIS_HASH
    for envelope, row in zip(loaded, rows, strict=True):
        assert row.prev_hash == prev
        assert row.hash == chain_hash(prev, envelope)
        prev = row.hash
    assert outbox >= 3


async def test_stale_expected_version_raises_concurrency_error(
    store_db: tuple[AsyncEngine, PostgresStore],
) -> None:
    _engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    async with store.transaction() as tx:
        await append(tx, stream, [withdrawn("b")])
    with pytest.raises(ConcurrencyError) as caught:
        async with store.transaction() as tx:
            await append(tx, stream, [withdrawn("b")])
    assert caught.value.actual_version == 1


async def test_concurrent_appends_at_the_same_version_one_wins(
    store_db: tuple[AsyncEngine, PostgresStore],
) -> None:
    engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    both_read = asyncio.Barrier(2)

    async def racer(note: str) -> str:
        try:
            async with store.transaction() as tx:
                version = (await tx.load([stream]))[stream].version
                await both_read.wait()
                await append(tx, stream, [withdrawn("c", note)], after=version)
            return "won"
        except ConcurrencyError:
            return "lost"

    results = await asyncio.gather(racer("x"), racer("y"))
    assert sorted(results) == ["lost", "won"]
    assert len(await _load(engine, store, stream)) == 1


async def test_event_rows_cannot_be_updated_or_deleted(store_db: tuple[AsyncEngine, PostgresStore]) -> None:
    engine, store = store_db
    stream = f"worker-{uuid.uuid4()}"
    async with store.transaction() as tx:
        await append(tx, stream, [withdrawn("d")])
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
    store_db: tuple[AsyncEngine, PostgresStore],
) -> None:
    engine, store = store_db
    old, new = f"worker-{uuid.uuid4()}", f"worker-{uuid.uuid4()}"
    correlation = uuid.uuid4()
    origin = Origin(correlation)
    async with store.transaction() as tx:
        await append(tx, old, [withdrawn("o", "1")], origin=origin)
    projected: list[str] = []

    async def project(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        projected.extend(f"{e.aggregate_id}@{e.aggregate_version}" for e in envelopes)

    projecting = PostgresStore(engine, store.tables, "ledger", project=project)
    async with projecting.transaction() as tx:
        loaded_old = (await tx.load([old]))[old]
        head, digest = loaded_old.version, loaded_old.last_hash
        recorded = await tx.append(
            [
                pending(tx, old, [withdrawn("o", "2")], after=1),  # head read by the batch
                pending(tx, new, [withdrawn("n", "1"), withdrawn("n", "2")], after=0),
                pending(tx, old, [withdrawn("o", "3")], after=2),  # the same stream again, after itself
                pending(tx, new, [withdrawn("n", "3")], after=2, expected_hash=None),
            ]
        )
    written = [r.envelope for r in recorded]
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


async def _load(engine: AsyncEngine, store: PostgresStore, stream: str) -> list[Envelope]:
    async with store.transaction() as tx:
        return [r.envelope for r in (await tx.load([stream]))[stream].recorded]


async def test_batch_append_refuses_a_stream_that_moved_and_writes_nothing(
    store_db: tuple[AsyncEngine, PostgresStore],
) -> None:
    engine, store = store_db
    moved, fresh = f"worker-{uuid.uuid4()}", f"worker-{uuid.uuid4()}"
    correlation = uuid.uuid4()
    origin = Origin(correlation)
    async with store.transaction() as tx:
        await append(tx, moved, [withdrawn("m", "1")], origin=origin)

    with pytest.raises(ConcurrencyError):
        async with store.transaction() as tx:
            batch = [pending(tx, fresh, [withdrawn("f", "1")]), pending(tx, moved, [withdrawn("m", "2")])]
            await tx.append(batch)
    # A hash handed in as read (no head query) for a version someone else took: the constraint refuses.
    _, first_hash = (await _chain(engine, moved))[0][2:]
    async with store.transaction() as tx:
        await append(tx, moved, [withdrawn("m", "2")], after=1, origin=origin)
    with pytest.raises(ConcurrencyError):
        async with store.transaction() as tx:
            await tx.append([pending(tx, moved, [withdrawn("m", "late")], after=1, expected_hash=first_hash)])
    assert await _chain(engine, fresh) == []
    assert [n for _, n, _, _ in await _chain(engine, moved)] == ["1", "2"]
