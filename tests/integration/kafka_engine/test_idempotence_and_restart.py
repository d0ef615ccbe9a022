"""Idempotent producers and a broker restart with data on disk, on Apache Kafka.

Registry, allocation, enrollment and the BPJS simulator run in-process with
LINDUNG_KAFKA_IDEMPOTENCE=true (Tansu answers InitProducerId with an error, so this never ran
before) and LINDUNG_REPUBLISH_ON_START=false (Kafka keeps its topics; the republish step is for
the in-memory broker). Officers act over HTTP: a programme at allocation, the P3KE extract and
nominations at the registry; the worker is enrolled when enrollment's API says so.

Then the node is stopped and started again (SIGTERM, a controlled shutdown), and killed and
started again (SIGKILL, recovery from the log segments), while the services keep running: the
topics, their records and the groups' committed offsets come back as they were, nothing is
delivered again (no inbox drops a repeat) and nothing is published again, and a nomination
made after each restart goes all the way.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any, TypeVar

import pytest
from aiokafka import TopicPartition
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka import TopicPartition as KafkaPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from fastapi import FastAPI

from libs.clock import set_business_now
from libs.db import make_engine
from libs.events import topics
from libs.events.topics import SUBSCRIPTIONS
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import upgrade
from libs.runtime.service import Runtime, create_app
from libs.settings import get_settings
from lindung_cli.kafka_broker import kafka_jars
from tests.infra import Infra, fresh_database_url
from tests.integration.kafka_engine.conftest import KAFKA_ENV, apache_kafka
from tests.integration.releases.conftest import (
    SERVICES,
    WIB,
    Stack,
    define_programme,
    import_p3ke,
    nominate,
    people,
    wait_status,
)
from tests.running import eventually, running, use_env

pytestmark = pytest.mark.integration

GROUPS = tuple(SERVICES)  # the consumer groups running here
# The topics the services running here write (the inbound topic is a regency system's).
WRITTEN = (topics.REGISTRY, topics.ALLOCATION, topics.ENROLLMENT, topics.BPJS_REQUESTS, topics.BPJS_RESULTS)
YEAR = 2025
PEOPLE = people(["first", "after_restart", "after_crash"])
Offsets = dict[TopicPartition, int]
Deliveries = dict[str, list[tuple[TopicPartition, int]]]  # per group: (partition, offset) handed over
T = TypeVar("T")


def end_offsets(bootstrap: str) -> Offsets:
    """Where every partition of Lindung's topics ends (librdkafka's admin client)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    present = admin.list_topics(timeout=10).topics
    asked = {
        KafkaPartition(name, number): OffsetSpec.latest()
        for name in topics.all_topic_names()
        if name in present
        for number in present[name].partitions
    }
    return {
        TopicPartition(tp.topic, tp.partition): answer.result().offset
        for tp, answer in admin.list_offsets(asked, request_timeout=10).items()
    }


def committed_offsets(bootstrap: str) -> dict[str, Offsets]:
    """Each running group's committed offsets, as the broker's group coordinator holds them."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    found: dict[str, Offsets] = {}
    for group in GROUPS:
        (answer,) = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)]).values()
        found[group] = {
            TopicPartition(tp.topic, tp.partition): tp.offset for tp in answer.result().topic_partitions
        }
    return found


async def answered(read: Callable[[str], T], bootstrap: str) -> T | None:
    """`read(bootstrap)`, or None while the node cannot answer yet (partition leaders elected
    after topics are created, groups loaded after a restart)."""
    try:
        return await asyncio.to_thread(read, bootstrap)
    except KafkaException:
        return None


async def settled_offsets(bootstrap: str) -> tuple[Offsets, dict[str, Offsets]]:
    """End and committed offsets once every running group has committed all it consumes."""

    async def caught_up() -> tuple[Offsets, dict[str, Offsets]] | None:
        ends, committed = await answered(end_offsets, bootstrap), await answered(committed_offsets, bootstrap)
        if ends is None or committed is None:
            return None
        for group, mine in committed.items():
            for tp, end in ends.items():
                if tp.topic in SUBSCRIPTIONS[group] and mine.get(tp, 0) != end:
                    return None
        return ends, committed

    found: tuple[Offsets, dict[str, Offsets]] = await eventually(caught_up, timeout_s=60, interval_s=0.3)
    return found


def since(ends: Offsets, start: Offsets) -> Counter[str]:
    """Records per topic written after `start` (the node holds earlier modules' records too)."""
    found: Counter[str] = Counter()
    for tp, end in ends.items():
        found[tp.topic] += end - start.get(tp, 0)
    return +found


async def published_rows(stack: Stack) -> Counter[str]:
    """Outbox rows each service has published, per topic (what its relay handed to Kafka)."""
    found: Counter[str] = Counter()
    for service in SERVICES:
        for topic, n in await stack.rows(
            f"SELECT topic, count(*) FROM {service}.outbox WHERE sent_at IS NOT NULL GROUP BY 1"
        ):
            found[topic] += n
    return found


def repeats_dropped(stack: Stack) -> int:
    return sum(rt.consumer.duplicates for rt in stack.runtimes.values() if rt.consumer is not None)


@pytest.fixture(scope="module")
async def start(kafka: Infra) -> Offsets:
    """Where every partition ended before this module's services wrote anything."""
    await ensure_topics(kafka.bootstrap, topics.all_topic_names(), get_settings().topic_partitions)
    found: Offsets = await eventually(lambda: answered(end_offsets, kafka.bootstrap), timeout_s=30)
    return found


def routes_over(rt: Runtime) -> FastAPI:
    """The service's HTTP routes over its running runtime (its lifespan ran once, in `running`)."""
    app = create_app(rt.definition)
    app.state.runtime = rt
    return app


@pytest.fixture(scope="module")
async def stack(
    kafka: Infra, start: Offsets, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    saved = dict(os.environ)
    clock_file = tmp_path_factory.mktemp("clock") / "business-now"
    set_business_now(clock_file, datetime(YEAR, 1, 6, 9, tzinfo=WIB))
    url = await asyncio.to_thread(fresh_database_url, kafka, "lindung_kafka_engine")
    try:
        for service in SERVICES:
            await asyncio.to_thread(upgrade, service, url)
        use_env(
            url,
            kafka.bootstrap,
            LINDUNG_BUSINESS_CLOCK_FILE=str(clock_file),
            LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S="0",
            **KAFKA_ENV,
        )
        engine = make_engine(url)
        async with AsyncExitStack() as exits:
            exits.push_async_callback(engine.dispose)
            runtimes = {n: await exits.enter_async_context(running(make())) for n, make in SERVICES.items()}
            apps = {name: routes_over(rt) for name, rt in runtimes.items()}
            yield Stack(apps, runtimes, engine, kafka.bootstrap, clock_file, uuid.uuid4().hex[:5].upper())
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def producer_ids_on_disk(kafka: Infra, start: Offsets) -> Counter[int]:
    """The producer id of every record batch written since `start` to the topics the services
    write, read from the node's log segments with Kafka's own DumpLogSegments (-1: a producer
    without idempotence)."""
    logs = apache_kafka(kafka).data_dir / "logs"
    files = [
        str(segment)
        for topic in WRITTEN
        for folder in logs.glob(f"{topic}-*")
        for segment in sorted(folder.glob("*.log"))
    ]
    tool = ["java", "-Xmx256m", "-cp", f"{kafka_jars()}/*", "kafka.tools.DumpLogSegments"]
    dumped = subprocess.run(
        [*tool, "--files", ",".join(files)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: Counter[int] = Counter()
    partition = None
    for line in dumped.splitlines():
        if line.startswith("Dumping "):
            folder = line.split("/")[-2]  # <topic>-<partition>
            topic, _, number = folder.rpartition("-")
            partition = TopicPartition(topic, int(number))
        batch = re.search(r"baseOffset: (\d+) .*producerId: (-?\d+)", line)
        if batch and partition is not None and int(batch[1]) >= start.get(partition, 0):
            found[int(batch[2])] += 1
    return found


async def test_idempotent_producers_carry_a_nomination_to_enrolled(
    stack: Stack, kafka: Infra, start: Offsets
) -> None:
    code = f"IDEM-{stack.run}"
    await define_programme(stack, code, YEAR, seats=10)
    await import_p3ke(stack, list(PEOPLE.values()))
    await nominate(stack, PEOPLE["first"], code)
    enrolled = await wait_status(stack, PEOPLE["first"], code, "enrolled")
    assert enrolled["kpj"]

    # Each service's producer got a producer id from the broker (InitProducerId) and stamps it,
    # with sequence numbers, on every batch: Kafka drops a batch a retry sends twice.
    ours: dict[str, int] = {}
    for name, rt in stack.runtimes.items():
        manager = rt.producer._txn_manager
        assert manager is not None, f"{name}'s producer is not idempotent"
        ours[name] = manager.producer_id
        assert ours[name] >= 0, f"{name}'s producer holds no producer id"
    assert len(set(ours.values())) == len(ours)
    on_disk = await asyncio.to_thread(producer_ids_on_disk, kafka, start)
    assert on_disk and set(on_disk) <= set(ours.values()), (on_disk, ours)
    # Every record the relays handed over is on the topics once.
    ends, _ = await settled_offsets(kafka.bootstrap)
    assert since(ends, start) == await published_rows(stack)
    print(f"\nproducer ids {ours}; record batches per producer id on disk {dict(on_disk)}")


def record_deliveries(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[tuple[TopicPartition, int]]]:
    """From now on, every record each group's consumer is handed (partition and offset)."""
    delivered: Deliveries = {name: [] for name in stack.runtimes}
    for name, rt in stack.runtimes.items():
        consumer = rt.consumer
        assert consumer is not None
        apply = consumer.handle_records

        async def recording(records: Any, name: str = name, apply: Any = apply) -> None:
            delivered[name] += [(TopicPartition(r.topic, r.partition), r.offset) for r in records]
            await apply(records)

        monkeypatch.setattr(consumer, "handle_records", recording)
    return delivered


@pytest.mark.parametrize("how", ["restart", "crash"])
async def test_broker_restart_keeps_topics_offsets_and_the_flow(
    stack: Stack, kafka: Infra, start: Offsets, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = f"IDEM-{stack.run}"  # defined by the test above, or here when it runs alone
    if not await stack.rows("SELECT 1 FROM enrollment.programmes WHERE programme_code = :p", p=code):
        await define_programme(stack, code, YEAR, seats=10)
        await import_p3ke(stack, list(PEOPLE.values()))
    ends, committed = await settled_offsets(kafka.bootstrap)
    dropped = repeats_dropped(stack)
    published = {name: rt.relay.published for name, rt in stack.runtimes.items()}
    delivered = record_deliveries(stack, monkeypatch)
    node = apache_kafka(kafka)
    began = time.monotonic()
    if how == "restart":
        await asyncio.to_thread(node.restart)
    else:
        await asyncio.to_thread(node.kill)
        await asyncio.to_thread(node.start)

    # The node came back with every topic, every record and every group's committed offsets.
    assert await eventually(lambda: answered(end_offsets, kafka.bootstrap), timeout_s=30) == ends
    assert await eventually(lambda: answered(committed_offsets, kafka.bootstrap), timeout_s=30) == committed
    back = time.monotonic() - began

    # The services, still running, carry a new nomination all the way.
    person = PEOPLE["after_restart" if how == "restart" else "after_crash"]
    await nominate(stack, person, code)
    assert (await wait_status(stack, person, code, "enrolled"))["kpj"]
    enrolled = time.monotonic() - began

    # Nothing published again: the topics hold each relay's rows once, and each relay published
    # only the new work (no republish of the outbox: the node kept the topics).
    after, _ = await settled_offsets(kafka.bootstrap)
    assert since(after, start) == await published_rows(stack)
    grown = {name: rt.relay.published - published[name] for name, rt in stack.runtimes.items()}
    assert sum(grown.values()) == sum(since(after, ends).values()) > 0
    # Nothing consumed before the restart was delivered again: every group resumed at its
    # committed offsets. (A batch of the new work whose commit met the rebalance that follows a
    # restart may come twice; the inbox drops it: counted below.)
    assert any(delivered.values())
    old = [(g, tp, at) for g, seen in delivered.items() for tp, at in seen if at < committed[g].get(tp, 0)]
    assert old == []
    print(
        f"\nbroker {how}: records since {dict(since(after, ends))}; published by {grown}; "
        f"records delivered { ({g: len(seen) for g, seen in delivered.items()}) }; repeats of new work "
        f"dropped by the inboxes {repeats_dropped(stack) - dropped}; node back {back:.1f} s, "
        f"the new nomination enrolled {enrolled:.1f} s after the {how} began"
    )
