"""Apache Kafka for this package whatever LINDUNG_TEST_BROKER says: these tests prove what the
in-memory Tansu broker cannot do (idempotent producers, a consumer group that loses a member
mid-batch, a restart with data on disk, topic retention). One KRaft node for the package: the
package's `infra` node when it is Apache Kafka, else a node of the package's own.

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
from tests.infra import Infra, Servers, broker_kind, started_broker

# Every service of this package runs as production should on Apache Kafka.
KAFKA_ENV = {
    "LINDUNG_KAFKA_IDEMPOTENCE": "true",
    # The republish-on-start step is only for the in-memory broker: Kafka keeps the topics.
    "LINDUNG_REPUBLISH_ON_START": "false",
}


@pytest.fixture(scope="package")
def kafka(servers: Servers, request: pytest.FixtureRequest) -> Iterator[Infra]:
    """PostgreSQL and one Apache Kafka node (`.broker` is the ApacheKafkaBroker: restartable)."""
    if shutil.which("java") is None:
        pytest.skip("Apache Kafka needs Java 17 or newer (none on PATH)")
    try:
        kafka_jars()
    except KafkaUnavailable as exc:
        pytest.skip(str(exc))
    if broker_kind("kafka") == "kafka" and not servers.shared_bootstrap:
        infra: Infra = request.getfixturevalue("infra")
        assert isinstance(infra.broker, ApacheKafkaBroker)
        yield infra
        return
    # LINDUNG_TEST_BROKER=tansu (or a shared testcontainers broker we could not restart): an
    # explicit option makes started_broker start Apache Kafka.
    with started_broker("kafka", extra_properties={}) as broker:
        yield Infra(servers.server_url, broker.bootstrap, f"{servers.kind}+kafka", broker)


def apache_kafka(infra: Infra) -> ApacheKafkaBroker:
    assert isinstance(infra.broker, ApacheKafkaBroker)
    return infra.broker
