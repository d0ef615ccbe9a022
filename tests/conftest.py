"""Session-wide fixtures: the real servers integration and end-to-end tests run against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra import Infra, start_infra

# Short group sessions: joining a consumer group on Tansu takes about half of it.
TEST_ENV = {
    "LINDUNG_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "LINDUNG_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "LINDUNG_CONSUMER_RETRY_BACKOFF_MS": "20",
    "LINDUNG_CONSUMER_MAX_ATTEMPTS": "3",
}


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """PostgreSQL and a Kafka-protocol broker for the whole session."""
    with start_infra() as servers:
        yield servers
