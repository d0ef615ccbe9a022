"""LINDUNG_KAFKA_TUNING picks the defaults of the Kafka latency settings; each set one wins."""

from __future__ import annotations

import pytest

from libs.messaging.kafka import MAX_REQUEST_BYTES, make_producer
from libs.settings import Settings

TUNED = (
    "kafka_fetch_max_wait_ms",
    "consumer_batch_timeout_ms",
    "consumer_batch_size",
    "kafka_linger_ms",
    "kafka_max_batch_bytes",
)


@pytest.fixture(autouse=True)
def no_kafka_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*TUNED, "kafka_tuning"):
        monkeypatch.delenv(f"LINDUNG_{name.upper()}", raising=False)


@pytest.mark.parametrize("tuning", ["latency", "throughput"])
def test_a_tuning_gives_its_defaults(tuning: str) -> None:
    settings = Settings(kafka_tuning=tuning)
    assert {name: getattr(settings, name) for name in TUNED} == Settings.KAFKA_TUNINGS[tuning]


def test_latency_is_the_default_and_waits_less_than_throughput() -> None:
    latency, throughput = Settings(), Settings(kafka_tuning="throughput")
    assert latency.kafka_tuning == "latency"
    assert latency.kafka_fetch_max_wait_ms < throughput.kafka_fetch_max_wait_ms
    assert latency.kafka_linger_ms < throughput.kafka_linger_ms


def test_a_setting_of_its_own_wins_over_the_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINDUNG_KAFKA_TUNING", "throughput")
    monkeypatch.setenv("LINDUNG_KAFKA_LINGER_MS", "3")
    settings = Settings()
    assert settings.kafka_linger_ms == 3
    assert settings.kafka_fetch_max_wait_ms == Settings.KAFKA_TUNINGS["throughput"]["kafka_fetch_max_wait_ms"]


async def test_the_producer_takes_linger_and_batch_size_from_the_settings() -> None:
    producer = make_producer(
        Settings(kafka_bootstrap_servers="127.0.0.1:1", kafka_linger_ms=7, kafka_max_batch_bytes=10**9)
    )
    accumulator = producer._message_accumulator
    assert accumulator._linger_time == 0.007
    assert accumulator._batch_size == MAX_REQUEST_BYTES  # never more than one request
