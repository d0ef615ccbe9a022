"""`lindung status`: consumer lag per group and event counts per service."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from libs.db import make_engine
from libs.events.topics import CONSUMER_GROUPS, SUBSCRIPTIONS
from libs.messaging.kafka import Target, as_connection, topic_partitions


async def consumer_lag(target: Target) -> dict[str, int | None]:
    """Messages not yet committed by each consumer group, summed over its partitions."""
    lags: dict[str, int | None] = {}
    options = as_connection(target).aiokafka_options()
    for group, topics in SUBSCRIPTIONS.items():
        consumer = AIOKafkaConsumer(**options, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = await topic_partitions(consumer, topics)
            if not partitions:
                lags[group] = None
                continue
            ends = await consumer.end_offsets(partitions)
            lag = 0
            for tp in partitions:
                committed = await consumer.committed(tp)
                lag += max(0, ends[tp] - (committed or 0))
            lags[group] = lag
        finally:
            await consumer.stop()
    return lags


async def event_counts(database_url: str) -> dict[str, dict[str, Any]]:
    """Events, inbox, unsent outbox rows and dead letters in every service schema."""
    engine = make_engine(database_url, pool_size=1)
    counts: dict[str, dict[str, Any]] = {}
    try:
        async with engine.connect() as conn:
            for schema in CONSUMER_GROUPS:
                exists = (
                    await conn.execute(text("SELECT to_regclass(:t)"), {"t": f"{schema}.events"})
                ).scalar_one()
                if exists is None:
                    continue
                row = (
                    await conn.execute(
                        text(
                            f"SELECT (SELECT count(*) FROM {schema}.events) AS events,"
                            f" (SELECT count(*) FROM {schema}.inbox) AS inbox,"
                            f" (SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL) AS unsent,"
                            f" (SELECT count(*) FROM {schema}.dead_letters) AS dead_letters"
                        )
                    )
                ).one()
                counts[schema] = dict(row._mapping)
    finally:
        await engine.dispose()
    return counts
