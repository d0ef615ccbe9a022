"""The inbox consumer and the outbox relay, through a real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from libs.db import async_url
from libs.events.envelope import Envelope
from libs.events.topics import REGISTRY, dead_letter_topic
from libs.messaging.kafka import ensure_topics
from tests.infra import Infra, fresh_database_url, started_broker
from tests.integration.backbone.support import count, create_schema, ledger_definition
from tests.integration.backbone.test_eventstore import withdrawn
from tests.running import eventually, read_topic, running, use_env
from tests.support.appending import append
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce

pytestmark = pytest.mark.integration


def withdrawal(note: str, worker: str = "w1") -> Envelope:
    return envelope_of(withdrawn(worker, note), "registry", f"worker-{worker}")


async def test_redelivered_event_has_one_effect_and_poison_is_parked_while_partition_flows(
    infra: Infra,
) -> None:
    schema = "ledger_c"
    topic = f"test.ledger.{uuid.uuid4().hex[:8]}"
    url = await asyncio.to_thread(fresh_database_url, infra)
    tables, effects = await create_schema(url, schema)
    use_env(url, infra.bootstrap)
    name = f"ledger{uuid.uuid4().hex[:6]}"
    await ensure_topics(infra.bootstrap, [topic, dead_letter_topic(name)], partitions=1)
    first, poison, after = withdrawal("first"), withdrawal("poison"), withdrawal("after")
    # One partition, one key: the poison event sits between two good ones.
    values = [first, first, b"\x00not json at all", poison, after]
    await produce(infra.bootstrap, topic, [(b"same-worker", value) for value in values])
    engine = create_async_engine(async_url(url))
    async with running(ledger_definition(name, tables, effects, topic)) as rt:

        async def settled() -> bool:
            async with engine.connect() as conn:
                return await count(conn, f"SELECT count(*) FROM {schema}.dead_letters") == 2 and (
                    await count(conn, f"SELECT count(*) FROM {schema}.effects") == 2
                )

        await eventually(settled)
        dlq = await read_topic(infra.bootstrap, dead_letter_topic(name), expected=2)
        assert rt.consumer is not None
        assert rt.consumer.duplicates == 1
    async with engine.connect() as conn:
        notes = [
            r[0] for r in (await conn.exec_driver_sql(f"SELECT note FROM {schema}.effects ORDER BY id")).all()
        ]
        inbox = await count(conn, f"SELECT count(*) FROM {schema}.inbox WHERE outcome = 'applied'")
    assert notes == ["first", "after"]
    assert inbox == 2
    headers = [dict((k, v.decode()) for k, v in r.headers) for r in dlq]
    assert {h["lindung-error-type"] for h in headers} == {"ValidationError", "ValueError"}
    assert all(h["lindung-origin-topic"] == topic for h in headers)
    assert poison.to_bytes() in [r.value for r in dlq]
    await engine.dispose()


async def test_relay_keeps_rows_while_broker_is_down_and_sends_them_when_it_returns(infra: Infra) -> None:
    with started_broker("kafka") as broker:
        url = await asyncio.to_thread(fresh_database_url, infra)
        tables, effects = await create_schema(url, "ledger_r")
        use_env(url, broker.bootstrap)
        topic = "test.relay.v1"
        await ensure_topics(broker.bootstrap, [topic, REGISTRY], partitions=2)
        async with running(ledger_definition("ledger_r", tables, effects, topic)) as rt:
            broker.stop()
            assert rt.kit is not None
            async with rt.kit.store.transaction() as tx:
                await append(tx, "worker-outage", [withdrawn("outage", str(i)) for i in range(5)])
            rt.relay.wake()
            await asyncio.sleep(2.0)
            assert await rt.relay.unsent() == 5  # nothing dropped while the broker is away
            broker.start()
            await ensure_topics(broker.bootstrap, [topic, REGISTRY], partitions=2)

            async def drained() -> bool:
                return await rt.relay.unsent() == 0

            await eventually(drained, timeout_s=30)
        records = await read_topic(broker.bootstrap, "lindung.registry.v1", expected=5)
        notes = [Envelope.from_bytes(r.value).payload["note"] for r in records]
        assert notes == ["0", "1", "2", "3", "4"]  # one key, one partition, written order
