"""The relay publishes by position: in id order, waiting for ids still being written, skipping
rows stamped sent before, one statement per batch, `sent_at` stamped once it has caught up."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from libs.db import async_url
from libs.eventstore.tables import EventStoreTables
from libs.messaging.kafka import ensure_topics
from libs.messaging.relay import OutboxRelay
from tests.infra import Infra, fresh_database_url
from tests.integration.backbone.support import count, create_schema
from tests.running import read_topic

pytestmark = pytest.mark.integration

SCHEMA = "ledger_p"


@dataclass
class Bench:
    engine: AsyncEngine
    relay: OutboxRelay
    topic: str
    bootstrap: str
    statements: list[str]

    async def insert(self, conn: AsyncConnection, value: str, *, stamped: bool = False) -> None:
        sent = "now() - interval '1 day'" if stamped else "NULL"
        await conn.execute(
            text(f"INSERT INTO {SCHEMA}.outbox (topic, value, sent_at) VALUES (:t, :v, {sent})"),
            {"t": self.topic, "v": value.encode()},
        )

    async def write(self, value: str, *, stamped: bool = False) -> None:
        async with self.engine.begin() as conn:
            await self.insert(conn, value, stamped=stamped)

    async def published(self, expected: int) -> list[str]:
        return [r.value.decode() for r in await read_topic(self.bootstrap, self.topic, expected=expected)]

    async def unstamped(self) -> int:
        async with self.engine.connect() as conn:
            return await count(conn, f"SELECT count(*) FROM {SCHEMA}.outbox WHERE sent_at IS NULL")


@pytest.fixture
async def bench(infra: Infra) -> AsyncIterator[Bench]:
    url = await asyncio.to_thread(fresh_database_url, infra)
    tables, _ = await create_schema(url, SCHEMA)
    topic = f"test.relay.cursor.{uuid.uuid4().hex[:8]}"
    await ensure_topics(infra.bootstrap, [topic], partitions=1)
    engine = create_async_engine(async_url(url))
    statements: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap)
    await producer.start()
    try:
        relay = relay_of(engine, tables, producer, batch_size=3)
        yield Bench(engine, relay, topic, infra.bootstrap, statements)
    finally:
        await producer.stop()
        await engine.dispose()


def relay_of(
    engine: AsyncEngine, tables: EventStoreTables, producer: AIOKafkaProducer, batch_size: int
) -> OutboxRelay:
    return OutboxRelay(
        engine, tables, producer, batch_size=batch_size, poll_interval_s=0.05, topic_partitions=1
    )


async def test_ids_still_being_written_are_waited_for_and_rolled_back_ones_skipped(bench: Bench) -> None:
    late = await bench.engine.connect()
    await late.begin()
    await bench.insert(late, "a")  # id 1, its transaction still open
    await bench.write("b")  # id 2, committed before id 1
    async with bench.engine.connect() as conn:
        await conn.begin()
        await bench.insert(conn, "never")  # id 3, rolled back: a hole for ever
        await conn.rollback()
    await bench.write("stamped before", stamped=True)  # id 4: sent already, never published
    await bench.write("e")  # id 5

    assert await bench.relay.publish_batch() == 0  # id 1 may still come: nothing leaves
    assert await bench.relay.publish_batch() == 0
    await late.commit()
    await late.close()
    # Once the writer of id 1 has ended, the hole at 3 is final: everything goes, in id order.
    assert await bench.relay.publish_batch() == 3  # ids 1, 2 and 4 (3 is no more)
    assert await bench.relay.publish_batch() == 1
    assert await bench.published(expected=3) == ["a", "b", "e"]
    assert bench.relay.published == 3

    assert await bench.unstamped() == 3  # sent, not stamped yet: nothing written per row
    assert await bench.relay.publish_batch() == 0  # caught up: one UPDATE stamps them all
    assert await bench.unstamped() == 0
    async with bench.engine.connect() as conn:
        kept = await count(
            conn, f"SELECT count(*) FROM {SCHEMA}.outbox WHERE sent_at < now() - interval '1 hour'"
        )
    assert kept == 1  # the row stamped before keeps its own time


async def test_a_batch_costs_one_statement_and_catching_up_one_more(bench: Bench) -> None:
    for i in range(9):
        await bench.write(str(i))
    assert await bench.relay.publish_batch() == 3  # (the first call finds its position)
    bench.statements.clear()
    assert await bench.relay.publish_batch() == 3
    assert await bench.relay.publish_batch() == 3
    assert len(bench.statements) == 2  # one read per batch, no write
    assert await bench.relay.publish_batch() == 0
    assert len(bench.statements) == 4  # the read that found nothing, the stamp
    assert await bench.unstamped() == 0
    assert await bench.published(expected=9) == [str(i) for i in range(9)]


async def test_a_new_leader_starts_after_the_stamped_rows_and_republish_starts_over(bench: Bench) -> None:
    for value in ("a", "b"):
        await bench.write(value)
    assert await bench.relay.publish_batch() == 2
    await bench.relay.stamp_sent()
    await bench.write("c")
    successor = relay_of(bench.engine, bench.relay.tables, bench.relay.producer, batch_size=10)
    assert await successor.publish_batch() == 1  # only c: a and b are stamped
    await successor._mark_all_unsent()  # a new, empty cluster
    assert await successor.publish_batch() == 3
    assert await bench.published(expected=6) == ["a", "b", "c", "a", "b", "c"]
