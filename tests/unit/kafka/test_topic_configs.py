"""Topic settings from configuration: retention and the segment size it deletes by."""

from __future__ import annotations

import pytest

from libs.messaging.kafka import TOPIC_MAX_MESSAGE_BYTES, topic_configs, topic_configs_of
from libs.settings import Settings


def test_unset_settings_leave_the_broker_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RETENTION_MS", "RETENTION_BYTES", "SEGMENT_BYTES"):
        monkeypatch.delenv(f"LINDUNG_KAFKA_TOPIC_{name}", raising=False)
    configs = topic_configs_of(Settings(_env_file=None))  # type: ignore[call-arg]
    assert configs == {"max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES)}


def test_retention_and_segment_size_become_topic_configs() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        kafka_topic_retention_bytes=64 * 1024 * 1024,
        kafka_topic_segment_bytes=8 * 1024 * 1024,
    )
    configs = topic_configs_of(settings)
    assert configs["retention.bytes"] == "67108864"
    assert configs["segment.bytes"] == "8388608"
    assert "retention.ms" not in configs


def test_segment_size_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINDUNG_KAFKA_TOPIC_SEGMENT_BYTES", "1048576")
    monkeypatch.setenv("LINDUNG_KAFKA_TOPIC_RETENTION_MS", "-1")
    configs = topic_configs_of(Settings(_env_file=None))  # type: ignore[call-arg]
    assert configs["segment.bytes"] == "1048576"
    assert configs["retention.ms"] == "-1"


def test_topic_configs_keeps_the_message_size_with_every_setting() -> None:
    configs = topic_configs(retention_ms=1000, retention_bytes=2048, segment_bytes=1048576)
    assert configs == {
        "max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES),
        "retention.ms": "1000",
        "retention.bytes": "2048",
        "segment.bytes": "1048576",
    }
