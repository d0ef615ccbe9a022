"""The store contract on PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import MetaData, event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.db import async_url
from libs.eventstore.migration import create_eventstore
from libs.eventstore.postgres import PostgresStore
from libs.eventstore.tables import eventstore_tables
from tests.contract.eventstore.cases import StoreContract, _entry, pending
from tests.infra import Servers, create_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    url = await create_database(servers.server_url, f"lindung_contract_{uuid.uuid4().hex[:8]}")
    engine = create_async_engine(async_url(url))
    yield engine
    await engine.dispose()


class TestPostgresStoreContract(StoreContract):
    @pytest.fixture
    async def store(self, engine: AsyncEngine) -> PostgresStore:
        schema = f"s_{uuid.uuid4().hex[:10]}"
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await conn.run_sync(create_eventstore, schema)
        return PostgresStore(engine, eventstore_tables(MetaData(), schema), "ledger")

    async def test_inbox_rows_are_numbered_in_the_order_claimed(self, store: PostgresStore) -> None:
        ids = sorted((uuid.uuid4() for _ in range(5)), reverse=True)  # not the order of the ids
        async with store.transaction() as tx:
            assert await tx.claim_inbox([_entry(ids[0])]) == {ids[0]}
        async with store.transaction() as tx:
            assert await tx.claim_inbox([_entry(i) for i in ids]) == set(ids[1:])
        inbox = store.tables.inbox
        async with store.engine.connect() as conn:
            rows = await conn.execute(select(inbox.c.event_id).order_by(inbox.c.position))
            assert [r.event_id for r in rows] == ids

    async def test_statements_read_the_same_whatever_the_batch_size(self, store: PostgresStore) -> None:
        # The driver prepares each distinct text once per connection and keeps it: a text per
        # batch size filled that cache on a long run (issue 17, memory).
        async def texts_of(size: int) -> set[str]:
            seen: set[str] = set()

            def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                seen.add(statement)

            streams = [f"s{size}-{n}" for n in range(size)]
            event.listen(store.engine.sync_engine, "before_cursor_execute", note)
            try:
                async with store.transaction() as tx:
                    await tx.claim_inbox([_entry(uuid.uuid4()) for _ in range(size)])
                    await tx.load(streams)
                    await tx.append([pending(store, s, 0, "n") for s in streams])
                    await tx.mark_sent([m.id for m in await tx.unsent(size) if m.id is not None])
            finally:
                event.remove(store.engine.sync_engine, "before_cursor_execute", note)
            return seen

        assert await texts_of(1) == await texts_of(4)
