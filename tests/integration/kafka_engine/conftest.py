"""Apache Kafka for this package whatever LINDUNG_TEST_BROKER says: these tests prove what the
in-memory Tansu broker cannot do (idempotent producers, a consumer group that loses a member
mid-batch, a restart with data on disk, topic retention). One KRaft node of the package's own,
set for quick restarts (`kafka`); the package's `infra` is registered but not used.

The modules share the node, its topics and its consumer groups: each starts its services on a
fresh database and lets them settle before it ends, so the next module's services resume from
offsets past everything earlier (and never meet another module's work in flight).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from lindung_cli.kafka_broker import ApacheKafkaBroker, KafkaUnavailable, kafka_jars
from tests.brokers import kafka_package_infra  # noqa: F401  (`infra`: Apache Kafka unless forced)
from tests.infra import Infra, Servers, started_broker

# Every service of this package runs as production should on Apache Kafka.
KAFKA_ENV = {
    "LINDUNG_KAFKA_IDEMPOTENCE": "true",
    # The republish-on-start step is only for the in-memory broker: Kafka keeps the topics.
    "LINDUNG_REPUBLISH_ON_START": "false",
}


# A restarted node serves only once its controller has let its previous broker session expire
# (broker.session.timeout.ms, 9 s by default): a restart took 10-18 s, with these 2.6-4.5 s.
FAST_RESTART = {"broker.session.timeout.ms": "2000", "broker.heartbeat.interval.ms": "500"}


@pytest.fixture(scope="package")
def kafka(servers: Servers) -> Iterator[Infra]:
    """PostgreSQL and one Apache Kafka node of the package's own (`.broker` is the
    ApacheKafkaBroker: restartable), whatever LINDUNG_TEST_BROKER says: an explicit option makes
    started_broker start Apache Kafka. The package's `infra` is not used (nothing asks for it)."""
    if shutil.which("java") is None:
        pytest.skip("Apache Kafka needs Java 17 or newer (none on PATH)")
    try:
        kafka_jars()
    except KafkaUnavailable as exc:
        pytest.skip(str(exc))
    with started_broker("kafka", extra_properties=FAST_RESTART) as broker:
        yield Infra(servers.server_url, broker.bootstrap, f"{servers.kind}+kafka", broker)


def apache_kafka(infra: Infra) -> ApacheKafkaBroker:
    assert isinstance(infra.broker, ApacheKafkaBroker)
    return infra.broker
