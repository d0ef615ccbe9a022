"""When the table counters hold every write: the services quiet, every backend flushed."""

from __future__ import annotations

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
