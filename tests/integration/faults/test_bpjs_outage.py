"""The BPJS simulator down for a minute while registrations flow: the outcome is the fault-free one.

The simulator is stopped (SIGTERM, as BPJS's gateway going away) as soon as it has taken part of
a wave's registration requests, and started again `OUTAGE_S` seconds later. Meanwhile
enrollment keeps publishing requests; they wait in Kafka. Answers are due within
`enrollment_answer_timeout_s` (300 s by default), so a one-minute outage delays registrations but
retries none of them: every decreed worker ends enrolled or failed exactly once, with the KPJ the
fault-free run gave.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.infra import Infra
from tests.integration.faults import observe
from tests.integration.faults.conftest import Reference, fresh_run
from tests.integration.faults.run import Run
from tests.integration.faults.test_kills import grown

pytestmark = pytest.mark.integration

OUTAGE_S = 60.0
OUTAGE_WAVE = 1


async def test_bpjs_down_for_a_minute_loses_nothing_and_applies_nothing_twice(
    infra: Infra, reference: Reference, tmp_path: Path
) -> None:
    began = time.monotonic()
    outages: list[str] = []

    async def take_bpjs_down(run: Run, wave: int) -> None:
        if wave != OUTAGE_WAVE:
            await run.send(wave)
            return
        simulator = run.cluster.processes["bpjs_simulator"]
        before = await observe.inbox_count(run.engine, "bpjs_simulator")
        await run.send(wave)
        at = await grown(run, "bpjs_simulator", before)
        await asyncio.to_thread(simulator.stop)
        down = time.monotonic()
        # Enrollment goes on asking while BPJS is away: its requests pile up in the topic.
        waiting_before = await observe.inbox_count(run.engine, "enrollment")
        await asyncio.sleep(OUTAGE_S)  # the deliberate outage
        waiting_after = await observe.inbox_count(run.engine, "enrollment")
        await run.cluster.restart("bpjs_simulator")
        wave_end = reference.inbox_after[wave]["bpjs_simulator"]
        outages.append(
            f"simulator stopped at {at - before}/{wave_end - before} of its wave's requests, "
            f"down {time.monotonic() - down:.1f} s; enrollment consumed "
            f"{waiting_after - waiting_before} events meanwhile"
        )

    async with fresh_run(infra, tmp_path) as run:
        await run.drive(take_bpjs_down)
        outcome = await run.outcome()
        starts = run.cluster.processes["bpjs_simulator"].starts
    assert outcome.differences(reference.outcome) == []
    assert starts == 2
    print(
        f"\nBPJS outage: {'; '.join(outages)}; {outcome.totals()}; same as fault-free; "
        f"{time.monotonic() - began:.1f} s"
    )
