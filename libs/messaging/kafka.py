"""Thin helpers around aiokafka: topic creation and producers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from libs.messaging.connection import KafkaConnection
from libs.settings import Settings

# Where a client goes: a plain address (an unsecured broker) or a whole connection.
Target = str | KafkaConnection


def as_connection(target: Target) -> KafkaConnection:
    return target if isinstance(target, KafkaConnection) else KafkaConnection(target)


log = logging.getLogger(__name__)


# Lindung's topics take messages up to this size (Apache Kafka's default is 1 MiB): a foreign
# system's oversized message then reaches its consumer, which parks it (a cut copy) and answers
# the sender with a reason, instead of the broker refusing it with no word to the officer. The
# relays themselves never send more than MAX_REQUEST_BYTES.
TOPIC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def topic_configs(
    retention_ms: int | None = None,
    retention_bytes: int | None = None,
    segment_bytes: int | None = None,
) -> dict[str, str]:
    """Topic-level settings Lindung sets (the rest are the broker's defaults)."""
    configs = {"max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES)}
    if retention_ms is not None:
        configs["retention.ms"] = str(retention_ms)
    if retention_bytes is not None:
        configs["retention.bytes"] = str(retention_bytes)
    if segment_bytes is not None:
        # Retention deletes closed segments only: this bounds how far a partition overshoots it.
        configs["segment.bytes"] = str(segment_bytes)
    return configs


async def ensure_topics(
    target: Target,
    names: Iterable[str],
    partitions: int,
    replication: int = 1,
    *,
    configs: dict[str, str] | None = None,
) -> None:
    """Create the missing topics with `partitions` partitions and `configs` (default:
    `topic_configs()`, e.g. retention); existing ones keep their partitions, and get `configs`
    when given."""
    admin = AIOKafkaAdminClient(**as_connection(target).aiokafka_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(n, partitions, replication, topic_configs=configs or topic_configs())
                        for n in missing
                    ]
                )
        present = [n for n in names if n in existing]
        if configs and present:
            await alter_topic_configs(admin, present, configs)
    finally:
        await admin.close()


async def alter_topic_configs(
    admin: AIOKafkaAdminClient, names: Iterable[str], configs: dict[str, str]
) -> None:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, n, configs=configs) for n in names])


async def describe_topic_configs(target: Target, name: str) -> dict[str, str]:
    """A topic's settings as the broker holds them (name → value)."""
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(**as_connection(target).aiokafka_options())
    await admin.start()
    try:
        (answer,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
        # DescribeConfigsResponse: resources → (error_code, error_message, type, name, entries)
        entries = answer.resources[0][4]
        return {entry[0]: entry[1] for entry in entries}
    finally:
        await admin.close()


async def wait_for_broker(target: Target, timeout_s: float = 30.0) -> None:
    """Return once the broker answers metadata requests; raise TimeoutError otherwise."""
    connection = as_connection(target)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(**connection.aiokafka_options(), request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Kafka at {connection.bootstrap} did not answer: {exc}") from exc
            await asyncio.sleep(0.3)
        finally:
            await admin.close()


# The largest request a relay sends (one record with its headers must fit in it).
MAX_REQUEST_BYTES = 2 * 1024 * 1024


async def topic_partitions(consumer: AIOKafkaConsumer, names: Iterable[str]) -> list[TopicPartition]:
    """Every partition of those of `names` that exist, for a consumer to assign.

    aiokafka's `partitions_for_topic` only knows the topics of the client's own metadata: Tansu
    answers every metadata request with every topic, Apache Kafka with those asked for (none, for
    a consumer that subscribed to nothing). So ask for all of them, and read the answer."""
    cluster = await consumer._client.fetch_all_metadata()
    present = cluster.topics()
    return [
        TopicPartition(name, partition)
        for name in dict.fromkeys(names)
        if name in present
        for partition in sorted(cluster.partitions_for_topic(name) or ())
    ]


def topic_configs_of(settings: Settings) -> dict[str, str]:
    """The topic settings of `settings` (retention, segment size), as `topic_configs`."""
    return topic_configs(
        settings.kafka_topic_retention_ms,
        settings.kafka_topic_retention_bytes,
        settings.kafka_topic_segment_bytes,
    )


def make_producer(settings: Settings) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas; idempotence where the broker has it;
    linger and batch size from the Kafka tuning (LINDUNG_KAFKA_TUNING, docs/kafka.md)."""
    return AIOKafkaProducer(
        **KafkaConnection.from_settings(settings).aiokafka_options(),
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=settings.kafka_linger_ms,
        # A batch never outgrows a request (one record with its headers must fit in one).
        max_batch_size=min(settings.kafka_max_batch_bytes, MAX_REQUEST_BYTES),
        max_request_size=MAX_REQUEST_BYTES,
        request_timeout_ms=10_000,
    )
