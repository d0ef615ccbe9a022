"""The simulator's background loops, started with it: answers sent as they fall due, and the
consumer paused while an outage is in force (application/release.py tells the two clocks)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from libs.eventstore.errors import ConcurrencyError
from libs.runtime.service import Runtime
from services.bpjs_simulator.adapters.control import next_due, read_outage
from services.bpjs_simulator.application.control import Simulator
from services.bpjs_simulator.application.release import RELEASE_BATCH, real_now, release_due

log = logging.getLogger(__name__)

OUTAGE_REFRESH_S = 1.0
OUTAGE_TICK_S = 0.1
RELEASE_IDLE_S = 1.0


def simulator_of(rt: Runtime) -> Simulator:
    """The simulator's application layer, as bootstrap.py built it."""
    found = rt.definition.application
    assert isinstance(found, Simulator), "the simulator's definition carries its application"
    return found


def _consumers(rt: Runtime) -> list[Any]:
    if rt.broker is None:
        return []
    found = [getattr(sub, "consumer", None) for sub in rt.broker.subscribers]
    return [c for c in found if c is not None]


def pause_consumption(rt: Runtime) -> int:
    """Pause every partition the consumer holds (again after a rebalance); return how many."""
    paused = 0
    for consumer in _consumers(rt):
        partitions = set(consumer.assignment()) - set(consumer.paused())
        if partitions:
            consumer.pause(*partitions)
        paused += len(consumer.paused())
    return paused


def resume_consumption(rt: Runtime) -> None:
    """Resume every paused partition."""
    for consumer in _consumers(rt):
        partitions = consumer.paused()
        if partitions:
            consumer.resume(*partitions)


async def outage_loop(rt: Runtime) -> None:
    """Keep the consumer paused while an outage is in force, and resume it after."""
    state = simulator_of(rt).outage
    loop = asyncio.get_running_loop()
    refreshed = 0.0
    was_active = False
    while True:
        try:
            if state.changed.is_set() or loop.time() - refreshed > OUTAGE_REFRESH_S:
                state.changed.clear()
                until = await read_outage(rt.engine)
                if not state.changed.is_set():  # else the control route changed it meanwhile: re-read
                    state.until = until
                refreshed = loop.time()
            if state.active():
                pause_consumption(rt)
                if not was_active:
                    log.warning("BPJS simulator outage until %s: not consuming, not answering", state.until)
                was_active = True
            elif was_active:
                resume_consumption(rt)
                was_active = False
                log.warning("BPJS simulator outage over: consuming and answering again")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be down: keep the last known state
            log.warning("outage check failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.changed.wait(), timeout=OUTAGE_TICK_S)


def wake_on_commit(rt: Runtime, wake: asyncio.Event) -> None:
    """Also set `wake` when the consumer commits a batch that held answers (one answered at once
    holds none: nothing to release)."""
    consumer = rt.consumer
    if consumer is None:
        return
    relay_wake = consumer.on_commit
    handler = simulator_of(rt).handler

    def on_commit() -> None:
        relay_wake()
        if handler.held_some:
            handler.held_some = False
            wake.set()

    consumer.on_commit = on_commit


async def release_loop(rt: Runtime) -> None:
    """Send held answers as they fall due, except during an outage.

    Sleeps until the earliest answer is due, or until the consumer commits a batch that held
    answers, or at most RELEASE_IDLE_S (answers held by another instance); never less than
    `bpjs_release_interval_ms` between rounds."""
    simulator = simulator_of(rt)
    state = simulator.outage
    wake = state.release
    wake_on_commit(rt, wake)
    interval = rt.settings.bpjs_release_interval_ms / 1000
    assert rt.kit is not None, "a running service has a kit"
    kit = rt.kit
    while True:
        timeout = RELEASE_IDLE_S
        try:
            if state.active():
                timeout = OUTAGE_TICK_S
            else:
                while await release_due(kit, simulator.book_of) == RELEASE_BATCH:
                    pass
                due = await next_due(rt.engine)
                if due is not None:
                    timeout = min(RELEASE_IDLE_S, max(0.0, (due - real_now()).total_seconds()))
        except asyncio.CancelledError:
            raise
        except ConcurrencyError:
            timeout = interval  # another instance released into the same stream: next round
        except Exception as exc:
            log.warning("releasing held answers failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=timeout)
        wake.clear()
        await asyncio.sleep(interval)
