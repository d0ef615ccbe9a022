"""Bad input for every service (issue 9, item 2): schemathesis on each HTTP API, garbage on every
inbound topic. Helpers shared by both modules: the services, fresh migrated databases, and plain
aiokafka publishing and reading (the way an outside system would do it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from libs.runtime.migrate import upgrade
from libs.runtime.service import ServiceDefinition
from services.allocation.entrypoints.app import definition as allocation
from services.bpjs_simulator.entrypoints.app import definition as bpjs_simulator
from services.claims.entrypoints.app import definition as claims
from services.dashboard.entrypoints.app import definition as dashboard
from services.enrollment.entrypoints.app import definition as enrollment
from services.registry.entrypoints.app import definition as registry
from tests.brokers import kafka_package_infra  # noqa: F401  (`infra`: Apache Kafka of this package's own)
from tests.infra import Infra, fresh_database_url
from tests.running import read_matching
from tests.support.kafka import produce

# Every Lindung service, by the name of its consumer group and database schema.
SERVICES: dict[str, Callable[[], ServiceDefinition]] = {
    "registry": registry,
    "allocation": allocation,
    "enrollment": enrollment,
    "claims": claims,
    "bpjs_simulator": bpjs_simulator,
    "dashboard": dashboard,
}

Record = ConsumerRecord[bytes, bytes]


def migrated_database(infra: Infra, services: Sequence[str]) -> str:
    """A fresh database on the test server with the schemas of `services` (blocking)."""
    url = fresh_database_url(infra, prefix="lindung_fz")
    for service in services:
        upgrade(service, url)
    return url


@dataclass(frozen=True)
class Sent:
    """One message published by a test: where it landed."""

    kind: str
    topic: str
    key: bytes
    partition: int
    offset: int
    size: int


@dataclass
class Publisher:
    """A plain aiokafka producer, as a regency system or BPJS would run it (no Lindung helpers)."""

    bootstrap: str
    max_request_size: int = 8 * 1024 * 1024
    sent: list[Sent] = field(default_factory=list)

    async def publish(self, topic: str, messages: Iterable[tuple[str, bytes, bytes]]) -> list[Sent]:
        """Send (kind, key, value) messages in order, each acknowledged before the next."""
        plan = list(messages)
        sent = [(key, value) for _, key, value in plan]
        landed = await produce(self.bootstrap, topic, sent, max_request_size=self.max_request_size)
        done = [
            Sent(kind, topic, key, meta.partition, meta.offset, len(value))
            for (kind, key, value), meta in zip(plan, landed, strict=True)
        ]
        self.sent += done
        return done


async def read_topic(
    bootstrap: str, topic: str, keep: Callable[[Record], bool], expected: int, timeout_s: float = 30.0
) -> list[Record]:
    """Records of `topic` (from the beginning, no group) for which `keep` holds, once `expected`
    of them are there or the timeout has passed."""
    return await read_matching(bootstrap, topic, keep, expected, timeout_s)


async def committed_offset(bootstrap: str, group: str, tp: TopicPartition) -> int:
    """The offset `group` has committed on `tp` (the next record it will read; -1: none yet).

    Asked the way `lindung status` does it: a consumer of the group that joins nothing."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        committed = await consumer.committed(tp)
    finally:
        await consumer.stop()
    return -1 if committed is None else committed


def headers_of(record: Record) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (record.headers or ())}
