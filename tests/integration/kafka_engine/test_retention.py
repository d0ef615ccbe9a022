"""Topic retention from configuration, as Apache Kafka holds it (Tansu has no retention).

`lindung topics create` (the CLI itself, in a worker thread: it runs its own event loop) creates
every topic with LINDUNG_KAFKA_TOPIC_RETENTION_MS / _BYTES as topic settings, and run again with
other values it changes the topics that exist. The broker's own view (DescribeConfigs) is checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner

from libs.events.topics import all_topic_names
from libs.messaging.kafka import describe_topic_configs
from lindung_cli.main import app
from tests.infra import Infra
from tests.running import eventually, use_env
from tests.support.stack import kept_env

pytestmark = pytest.mark.integration

WEEK_MS, GIB = 7 * 24 * 3600 * 1000, 1024**3


@pytest.fixture
def environment() -> Iterator[None]:
    with kept_env():
        yield


def topics_create(bootstrap: str, retention_ms: int, retention_bytes: int) -> str:
    """`lindung topics create` as an operator runs it, with the retention settings in the environment."""
    use_env(
        "postgresql+asyncpg://unused@127.0.0.1/unused",
        bootstrap,
        LINDUNG_KAFKA_TOPIC_RETENTION_MS=str(retention_ms),
        LINDUNG_KAFKA_TOPIC_RETENTION_BYTES=str(retention_bytes),
    )
    done = CliRunner().invoke(app, ["topics", "create"])
    assert done.exit_code == 0, done.output
    return done.output


async def retention_becomes(bootstrap: str, expected: tuple[str, str]) -> None:
    """Until every Lindung topic's (retention.ms, retention.bytes), as the node describes them,
    is `expected`. The node answers CreateTopics and AlterConfigs once its controller has the
    change; DescribeConfigs shows it a moment later (seconds on a busy machine)."""

    held: set[tuple[str | None, str | None]] = set()

    async def reached() -> bool:
        held.clear()
        for name in all_topic_names():
            configs = await describe_topic_configs(bootstrap, name)
            held.add((configs.get("retention.ms"), configs.get("retention.bytes")))
        return held == {expected}

    try:
        await eventually(reached, timeout_s=30, interval_s=0.3)
    except AssertionError as exc:
        raise AssertionError(f"the topics hold (retention.ms, retention.bytes) {held}") from exc


async def delete_lindung_topics(bootstrap: str) -> None:
    """So that `topics create` creates them (the package's other modules made them first)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        present = [n for n in all_topic_names() if n in set(await admin.list_topics())]
        if present:
            await admin.delete_topics(present)
        while set(present) & set(await admin.list_topics()):
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def test_topics_create_sets_retention_and_changes_it_on_existing_topics(
    kafka: Infra, environment: None
) -> None:
    await delete_lindung_topics(kafka.bootstrap)
    await asyncio.to_thread(topics_create, kafka.bootstrap, WEEK_MS, GIB)
    await retention_becomes(kafka.bootstrap, (str(WEEK_MS), str(GIB)))

    # Again with other values: the existing topics take them (-1: kept for ever).
    await asyncio.to_thread(topics_create, kafka.bootstrap, -1, 2 * GIB)
    await retention_becomes(kafka.bootstrap, ("-1", str(2 * GIB)))
