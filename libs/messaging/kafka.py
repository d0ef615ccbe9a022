"""Thin helpers around aiokafka: topic creation and producers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from libs.settings import Settings

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, names: Iterable[str], partitions: int, replication: int = 1) -> None:
    """Create the missing topics with `partitions` partitions (existing ones are left alone)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(n, partitions, replication) for n in missing])
    finally:
        await admin.close()


async def wait_for_broker(bootstrap: str, timeout_s: float = 30.0) -> None:
    """Return once the broker answers metadata requests; raise TimeoutError otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Kafka at {bootstrap} did not answer: {exc}") from exc
            await asyncio.sleep(0.3)
        finally:
            await admin.close()


# The largest request a relay sends (one record with its headers must fit in it).
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def make_producer(settings: Settings) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas; idempotence where the broker has it."""
    assert settings.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS is not set"
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=5,
        max_request_size=MAX_REQUEST_BYTES,
        request_timeout_ms=10_000,
    )
