"""The `infra` fixture for test packages that run on Apache Kafka by default (the Kafka-sensitive
suites: backbone, consumer groups and scale-out, faults, fuzz on topics, end to end, audit replay
from Kafka). Import it into the package's conftest:

    from tests.brokers import kafka_package_infra  # noqa: F401  (`infra` on Apache Kafka)

LINDUNG_TEST_BROKER=tansu still sends such a package to Tansu (and =kafka every package to Kafka).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra import Infra, Servers, module_infra


@pytest.fixture(scope="package", name="infra")
def kafka_package_infra(servers: Servers) -> Iterator[Infra]:
    with module_infra(servers, "kafka") as found:
        yield found
