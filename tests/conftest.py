"""Session-wide fixtures: the real servers integration and end-to-end tests run against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra import BROKERS_USED, CURRENT_TEST, Infra, Servers, module_infra, start_servers

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
    """PostgreSQL and a Kafka-protocol broker of the test package's own, Tansu unless
    LINDUNG_TEST_BROKER says otherwise: a package that reads the shared topics from the beginning
    never sees another package's events, and no consumer group another package left behind.

    A package-scoped fixture lives in the package whose conftest registers it: every
    tests/integration/<package>/conftest.py imports it (or `kafka_package_infra` from
    tests/brokers.py for the suites that run on Apache Kafka), so each package gets its own."""
    with module_infra(servers, "tansu") as found:
        yield found


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    CURRENT_TEST[0] = nodeid


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Which broker each test package ran on (the Kafka-sensitive suites run on Apache Kafka)."""
    if not BROKERS_USED:
        return
    terminalreporter.section("brokers")
    names = {"kafka": "Apache Kafka", "tansu": "Tansu"}
    for package, kinds in sorted(BROKERS_USED.items()):
        terminalreporter.write_line(f"{' + '.join(names[k] for k in sorted(kinds)):<22} {package}")
