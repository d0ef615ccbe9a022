"""Session-wide fixtures: the real servers integration and end-to-end tests run against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra import Infra, Servers, module_infra, start_servers

# Short group sessions: joining a consumer group on Tansu takes about half of it.
TEST_ENV = {
    "LINDUNG_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "LINDUNG_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "LINDUNG_CONSUMER_RETRY_BACKOFF_MS": "20",
    "LINDUNG_CONSUMER_MAX_ATTEMPTS": "3",
    # Short idle waits: every hop between services in a test costs about their sum.
    "LINDUNG_KAFKA_FETCH_MAX_WAIT_MS": "100",
    "LINDUNG_CONSUMER_BATCH_TIMEOUT_MS": "20",
}


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """PostgreSQL for the whole session (each test module makes its own databases)."""
    with start_servers() as found:
        yield found


@pytest.fixture(scope="package", name="infra")
def package_infra(servers: Servers) -> Iterator[Infra]:
    """PostgreSQL and a Kafka-protocol broker of the test package's own: a package that reads the
    shared topics from the beginning never sees another package's events, and no consumer group
    another package left behind (Tansu can leave one that makes the next member rejoin for ever).

    A package-scoped fixture lives in the package whose conftest registers it: every
    tests/integration/<package>/conftest.py imports it, so each package gets its own."""
    with module_infra(servers) as found:
        yield found
