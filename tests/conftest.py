"""Session-wide fixtures: the real servers integration and end-to-end tests run against."""

from __future__ import annotations

import atexit
import os
import tempfile
from collections.abc import Generator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.infra import BROKERS_USED, CURRENT_TEST, Infra, Servers, module_infra, start_servers

ROOT = Path(__file__).resolve().parent.parent

# The business calendar (libs/clock.py) of every service a test starts without a calendar of its
# own: a fixed day inside the 2026 programmes the suites define. On the system clock those
# programmes would end on 31 December 2026, and from then on the registry would refuse every
# nomination into them (PROGRAMME_ENDED). Real time still runs timeouts, retries and event times.
TEST_TODAY = datetime(2026, 12, 7, 9, 0, tzinfo=timezone(timedelta(hours=7)))
TEST_CLOCK_FILE = Path(tempfile.gettempdir()) / f"lindung-test-calendar-{os.getpid()}.txt"
TEST_CLOCK_FILE.write_text(TEST_TODAY.isoformat(), encoding="utf-8")
atexit.register(TEST_CLOCK_FILE.unlink, missing_ok=True)

# Short group sessions: joining a consumer group on Tansu takes about half of it.
TEST_ENV = {
    "LINDUNG_BUSINESS_CLOCK_FILE": str(TEST_CLOCK_FILE),
    "LINDUNG_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "LINDUNG_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    "LINDUNG_CONSUMER_RETRY_BACKOFF_MS": "20",
    "LINDUNG_CONSUMER_MAX_ATTEMPTS": "3",
    # Short idle waits: every hop between services in a test costs about their sum.
    "LINDUNG_KAFKA_FETCH_MAX_WAIT_MS": "100",
    "LINDUNG_CONSUMER_BATCH_TIMEOUT_MS": "20",
    # The BPJS simulator answers as BPJS in tests (never by default: libs/events/topics.py).
    "LINDUNG_BPJS_PRODUCERS": '["bpjs", "bpjs_simulator"]',
    # Tests run services without API keys, event keys or a pepper of their own (libs/runtime/production.py).
    "LINDUNG_DEV_MODE": "true",
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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `-n 2` (make test), a test folder runs whole on one worker: its package-scoped broker,
    databases and stack are set up once, its modules keep their order, and the folders that start
    `lindung up` or a stack of processes never meet each other's ports or consumer groups.
    (xdist's own `--dist loadgroup` marks are lost under pytest 9: its node ids stay unsuffixed.)"""
    from xdist.scheduler import LoadScopeScheduling

    class FolderScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return nodeid.split("::", 1)[0].rsplit("/", 1)[0]

    return FolderScheduling(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    # A worker's notes travel to the controller (which prints the summary) on its reports.
    if report.when == "teardown" and BROKERS_USED:
        report.user_properties.append(("lindung_brokers", {p: sorted(k) for p, k in BROKERS_USED.items()}))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name == "lindung_brokers":
            for package, kinds in value.items():
                BROKERS_USED.setdefault(package, set()).update(kinds)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Which broker each test package ran on (the Kafka-sensitive suites run on Apache Kafka)."""
    if not BROKERS_USED:
        return
    terminalreporter.section("brokers")
    names = {"kafka": "Apache Kafka", "tansu": "Tansu"}
    for package, kinds in sorted(BROKERS_USED.items()):
        terminalreporter.write_line(f"{' + '.join(names[k] for k in sorted(kinds)):<22} {package}")
