"""When the table counters hold every write: the services quiet, every backend flushed."""

from __future__ import annotations

import asyncio

import pytest

from lindung_cli.benchmarks import sql_counts
from lindung_cli.benchmarks.sql_settle import IDLE_FLUSH_S, Backend, FlushWatch

RELAY = (101, 1.0)
CONSUMER = (102, 1.0)


def idle(key: tuple[int, float], since: float, service: str = "registry") -> Backend:
    return Backend(key, service, True, since)


def busy(key: tuple[int, float], since: float, service: str = "registry") -> Backend:
    return Backend(key, service, False, since)


def test_a_backend_idle_longer_than_the_timer_has_flushed() -> None:
    watch = FlushWatch(still_s=3.0)
    assert not watch.observe(100.0, {"registry": 5}, [idle(CONSUMER, 95.0)])
    assert not watch.observe(102.0, {"registry": 5}, [idle(CONSUMER, 95.0)])
    # Still for 3 s, but the consumer went idle 8 s ago: its timer may not have fired yet.
    assert not watch.observe(103.0, {"registry": 5}, [idle(CONSUMER, 95.0)])
    assert watch.observe(95.0 + IDLE_FLUSH_S, {"registry": 5}, [idle(CONSUMER, 95.0)])


def test_a_backend_that_went_idle_again_a_second_later_has_flushed() -> None:
    watch = FlushWatch(still_s=3.0)
    assert not watch.observe(100.0, {"registry": 5}, [idle(RELAY, 99.9)])
    assert not watch.observe(101.0, {"registry": 5}, [idle(RELAY, 100.95)])
    assert watch.observe(103.0, {"registry": 5}, [idle(RELAY, 102.98)])


def test_idle_transitions_less_than_a_second_apart_prove_nothing() -> None:
    watch = FlushWatch(still_s=0.0)
    assert not watch.observe(100.0, {}, [idle(RELAY, 99.9)])
    assert not watch.observe(100.5, {}, [idle(RELAY, 100.4)])
    assert watch.observe(101.0, {}, [idle(RELAY, 100.9)])


def test_a_write_starts_the_wait_again_for_its_role() -> None:
    watch = FlushWatch(still_s=3.0)
    watch.observe(100.0, {"registry": 5, "claims": 1}, [idle(RELAY, 99.9), idle(CONSUMER, 50.0, "claims")])
    watch.observe(101.5, {"registry": 5, "claims": 1}, [idle(RELAY, 101.4), idle(CONSUMER, 50.0, "claims")])
    # The registry wrote again: its relay's earlier idle transitions no longer count.
    assert not watch.observe(102.0, {"registry": 6, "claims": 1}, [idle(RELAY, 101.9)])
    assert not watch.observe(105.0, {"registry": 6, "claims": 1}, [idle(RELAY, 102.5)])
    assert watch.observe(105.5, {"registry": 6, "claims": 1}, [idle(RELAY, 105.4)])


def test_a_busy_backend_keeps_the_counters_unsettled() -> None:
    watch = FlushWatch(still_s=0.0)
    assert not watch.observe(100.0, {}, [busy(CONSUMER, 80.0)])
    assert watch.observe(100.5, {}, [idle(CONSUMER, 80.0)])


def test_a_backend_that_exited_has_flushed() -> None:
    watch = FlushWatch(still_s=0.0)
    assert not watch.observe(100.0, {}, [idle(CONSUMER, 99.0)])
    assert watch.observe(100.5, {}, [])


class _Engine:
    """Enough of an AsyncEngine for read_settled: `connect()` as an async context manager."""

    def connect(self) -> _Engine:
        return self

    async def __aenter__(self) -> _Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def _settle_with(
    monkeypatch: pytest.MonkeyPatch,
    statements: list[dict[str, dict[str, int]] | None],
    sessions: list[tuple[float, list[Backend]] | None],
) -> list[str]:
    """read_settled over the given readings (no sleeping); which reading it returned."""
    seen: list[str] = []
    left_statements, left_sessions = iter(statements), iter(sessions)

    async def fake_statements(engine: object, prefix: str) -> dict[str, dict[str, int]] | None:
        return next(left_statements)

    async def fake_sessions(conn: object, services: dict[str, str]) -> tuple[float, list[Backend]] | None:
        assert services["lindung_registry"] == "registry"
        return next(left_sessions)

    async def fake_read(engine: object, prefix: str) -> str:
        seen.append("settled")
        return "settled"

    async def fake_still(engine: object, prefix: str, timeout_s: float) -> str:
        seen.append("still")
        return "still"

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(sql_counts, "_statements", fake_statements)
    monkeypatch.setattr(sql_counts, "service_backends", fake_sessions)
    monkeypatch.setattr(sql_counts, "read", fake_read)
    monkeypatch.setattr(sql_counts, "read_still", fake_still)
    monkeypatch.setattr(sql_counts.asyncio, "sleep", no_sleep)
    asyncio.run(sql_counts.read_settled(_Engine(), "lindung_", still_s=1.0))  # type: ignore[arg-type]
    return seen


def test_the_reading_is_taken_once_writes_are_still_and_every_backend_flushed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    insert = {"registry": {"INSERT INTO registry.inbox VALUES ($1)": 4, "SELECT 1": 9}}
    more = {"registry": {"INSERT INTO registry.inbox VALUES ($1)": 5, "SELECT 1": 9}}
    readings = [insert, more, more, more]
    sessions = [(100.0, [idle(RELAY, 99.9)]), (100.5, [idle(RELAY, 100.4)]), (101.0, [idle(RELAY, 100.9)])]
    sessions.append((101.6, [idle(RELAY, 101.5)]))
    assert _settle_with(monkeypatch, readings, sessions) == ["settled"]


def test_without_pg_stat_statements_the_old_still_wait_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settle_with(monkeypatch, [None], [(100.0, [])]) == ["still"]


def test_without_the_right_to_see_the_sessions_the_old_still_wait_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _settle_with(monkeypatch, [{}], [None]) == ["still"]
