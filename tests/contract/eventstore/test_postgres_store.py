"""The store contract on PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.db import async_url
from libs.eventstore.migration import create_eventstore
from libs.eventstore.postgres import PostgresStore
from libs.eventstore.tables import eventstore_tables
from tests.contract.eventstore.cases import StoreContract
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
