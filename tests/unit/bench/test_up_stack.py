"""`lindung up`'s choice of broker and what it tells the services, without starting anything."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from libs.clock import FileClock
from libs.settings import Settings
from lindung_cli.kafka_broker import ApacheKafkaBroker, KafkaUnavailable
from lindung_cli.up import Stack, kafka_version


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Integration tests that ran earlier in the session leave KAFKA_BOOTSTRAP_SERVERS and
    # friends in os.environ: each case here sets what it means.
    import os

    for name in list(os.environ):
        if name.startswith(("LINDUNG_", "KAFKA_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def _stack(tmp_path: Path, **settings: object) -> Stack:
    return Stack(Settings(data_dir=str(tmp_path), **settings))  # type: ignore[arg-type]


def test_tansu_is_the_default_and_services_republish_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINDUNG_KAFKA_IDEMPOTENCE", raising=False)
    stack = _stack(tmp_path)
    assert stack.broker_kind == "tansu"
    stack.broker = stack._embedded_broker(tmp_path)
    env = stack.service_env(9999)
    assert env["LINDUNG_REPUBLISH_ON_START"] == "true"
    assert env["LINDUNG_HTTP_PORT"] == "9999"
    assert "LINDUNG_KAFKA_IDEMPOTENCE" not in env  # Tansu refuses InitProducerId


def test_apache_kafka_with_data_on_disk_gets_idempotent_producers_and_no_republish(tmp_path: Path) -> None:
    stack = _stack(tmp_path, broker="kafka", kafka_session_timeout_ms=2000)
    # Storage formatted by an earlier run: the broker still holds every event.
    (tmp_path / "kafka" / "logs").mkdir(parents=True)
    (tmp_path / "kafka" / "logs" / "meta.properties").write_text("cluster.id=abc\nnode.id=1\n")
    stack.check_broker()
    broker = stack._embedded_broker(tmp_path)
    assert isinstance(broker, ApacheKafkaBroker)
    assert broker.data_dir == tmp_path / "kafka"
    assert broker.log_path == tmp_path / "logs" / "kafka.log"
    assert broker.port == stack.settings.embedded_broker_port
    # The services' 2 s sessions must be accepted by the node (Kafka's own floor is 6 s).
    assert broker.extra_properties["group.min.session.timeout.ms"] == "2000"
    stack.broker = broker
    env = stack.service_env(9999)
    assert env["LINDUNG_REPUBLISH_ON_START"] == "false"
    assert env["LINDUNG_KAFKA_IDEMPOTENCE"] == "true"


def test_a_new_kafka_storage_gets_the_stored_events_again(tmp_path: Path) -> None:
    # E.g. var/postgres from Tansu runs, var/kafka new: the broker holds none of the stored events.
    stack = _stack(tmp_path, broker="kafka")
    stack.broker = stack._embedded_broker(tmp_path)
    assert stack.service_env(9999)["LINDUNG_REPUBLISH_ON_START"] == "true"


def test_an_external_broker_is_left_as_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINDUNG_KAFKA_IDEMPOTENCE", "false")
    stack = _stack(tmp_path, broker="kafka", kafka_bootstrap_servers="kafka1.internal:9092")
    assert stack.broker_kind == "external"
    stack.check_broker()  # no jars needed
    assert stack.kafka_lib is None
    env = stack.service_env(9999)
    assert env["LINDUNG_REPUBLISH_ON_START"] == "false"
    assert env["LINDUNG_KAFKA_IDEMPOTENCE"] == "false"  # the operator's setting, not ours


def test_without_java_kafka_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    stack = _stack(tmp_path, broker="kafka")
    with pytest.raises(KafkaUnavailable, match="Java 17"):
        stack.check_broker()
    assert stack.postgres is None and stack.broker is None


def test_the_version_said_is_that_of_the_jars(tmp_path: Path) -> None:
    (tmp_path / "kafka_2.13-4.1.1.jar").write_bytes(b"")
    assert kafka_version(tmp_path) == "4.1.1"


def test_the_embedded_demo_runs_in_development_mode(tmp_path: Path) -> None:
    # Its services have no API keys, event keys or pepper of their own: outside development mode
    # they would refuse to start (libs/runtime/production.py).
    stack = _stack(tmp_path)
    stack.broker = stack._embedded_broker(tmp_path)
    assert stack.service_env(9999)["LINDUNG_DEV_MODE"] == "true"


def test_the_demo_lives_in_its_programme_year(tmp_path: Path) -> None:
    """Within 2026 the demo runs on the system clock; after it (its programme ended, every
    nomination would be refused) on the same day of 2026, in a calendar file the services read."""
    within = _stack(tmp_path / "within")
    assert within.demo_calendar(date(2026, 12, 7)) is None
    assert "LINDUNG_BUSINESS_CLOCK_FILE" not in within.service_env(9999)
    after = _stack(tmp_path / "after")
    assert after.demo_calendar(date(2027, 3, 15)) == date(2026, 3, 15)
    assert after.demo_calendar(date(2028, 2, 29)) == date(2026, 2, 28)
    calendar = after.service_env(9999, "registry")["LINDUNG_BUSINESS_CLOCK_FILE"]
    assert FileClock(Path(calendar))() == datetime(2026, 2, 28, 9, tzinfo=timezone(timedelta(hours=7)))
    configured = _stack(tmp_path / "configured", business_clock_file=str(tmp_path / "mine.txt"))
    assert configured.demo_calendar(date(2027, 3, 15)) is None
