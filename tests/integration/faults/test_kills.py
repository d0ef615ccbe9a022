"""SIGKILL each service in the middle of a wave, start it again: the outcome is the fault-free one.

Wave k kills service k (registry, allocation, enrollment, claims, bpjs_simulator) as soon as its
inbox has grown during the wave: a batch is usually being applied then, and its transaction dies
with the process. The new process resumes from the group's committed offsets; what was applied
but not yet committed in Kafka is delivered again and dropped by the inbox.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.infra import Infra
from tests.integration.faults import observe
from tests.integration.faults.cluster import SERVICES
from tests.integration.faults.conftest import Reference, fresh_run
from tests.integration.faults.run import Run

pytestmark = pytest.mark.integration


async def grown(run: Run, service: str, above: int, timeout_s: float = 60.0) -> int:
    """The service's inbox count, once it is above `above` (polled without pause)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        count = await observe.inbox_count(run.engine, service)
        if count > above:
            return count
        await asyncio.sleep(0.005)
    raise AssertionError(f"{service} consumed nothing of the wave within {timeout_s}s")


async def test_sigkill_of_each_service_mid_wave_loses_nothing_and_applies_nothing_twice(
    infra: Infra, reference: Reference, tmp_path: Path
) -> None:
    began = time.monotonic()
    kills: list[str] = []

    async def kill_one(run: Run, wave: int) -> None:
        service = SERVICES[wave % len(SERVICES)]
        before = await observe.inbox_count(run.engine, service)
        await run.send(wave)
        at = await grown(run, service, before)
        run.cluster.processes[service].kill()
        wave_end = reference.inbox_after[wave][service]
        kills.append(f"{service} at {at - before}/{wave_end - before} of its wave's input")
        await run.cluster.restart(service)

    async with fresh_run(infra, tmp_path) as run:
        await run.drive(kill_one)
        outcome = await run.outcome()
        starts = {s: p.starts for s, p in run.cluster.processes.items()}
    assert outcome.differences(reference.outcome) == []
    assert all(n == 2 for n in starts.values()), starts
    print(
        f"\nSIGKILL x{len(kills)}: {'; '.join(kills)}; {outcome.totals()}; "
        f"same as fault-free; {time.monotonic() - began:.1f} s"
    )
