"""Per-hop latency at idle: after the bulk run, single nominations posted one at a time, each
waited for until its worker is EnrolledAtBPJS, so every hop is measured on a quiet stack (what a
regency officer sees, rather than the wait in a backlog).

A hop's end is when its stage's event was on the broker (the relay's `sent_at`, as for the bulk
stages); its start is the end of the hop before, or the nomination's post for the first.
"""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.topics import NOMINATIONS_INBOUND
from lindung_cli.benchmarks.pipeline_events import STAGES, first_times, marks_now, source_refs
from lindung_cli.benchmarks.pipeline_result import percentiles
from lindung_cli.benchmarks.pipeline_submit import nominations
from lindung_cli.benchmarks.target import Target
from lindung_cli.benchmarks.workload import Workload

POSTED = "posted"
# Hops named by the stage they end at, each from the stage before (the first from the post).
NAMES = (POSTED, *(s.name for s in STAGES))
HOPS = tuple(f"{a}→{b}" for a, b in pairwise(NAMES))


def hop_times(posted: float, stages: dict[str, float]) -> dict[str, float]:
    """Seconds of each hop of one worker, and posted→enrolled; a hop whose stage is missing (or
    whose stage before it is) is left out."""
    found: dict[str, float] = {}
    at = {POSTED: posted, **stages}
    for before, after in pairwise(NAMES):
        if before in at and after in at:
            found[f"{before}→{after}"] = at[after] - at[before]
    last = NAMES[-1]
    if last in at:
        found[f"{POSTED}→{last}"] = at[last] - posted
    return found


def summarise(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """p50 / p95 / max (seconds) of each hop over the samples, in the pipeline's order."""
    order = [*HOPS, f"{POSTED}→{STAGES[-1].name}"]
    return {
        hop: percentiles([s[hop] for s in samples if hop in s], (50, 95))
        for hop in order
        if any(hop in s for s in samples)
    }


async def _enrolled_count(engine: AsyncEngine, start: int, code: str) -> int:
    sql = text(
        "SELECT count(*) FROM enrollment.events WHERE position > :start"
        " AND event_type = 'EnrolledAtBPJS' AND payload->>'programme_code' = :code"
    )
    async with engine.connect() as conn:
        return int((await conn.execute(sql, {"start": start, "code": code})).scalar_one())


async def measure(
    target: Target,
    engine: AsyncEngine,
    workload: Workload,
    indices: range,
    *,
    pause_s: float = 0.3,
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """Post the nominations of `indices` one by one, each after the one before was enrolled (and
    a pause, for the services downstream to go quiet); the hops' percentiles and every sample."""
    code = workload.programme_code
    marks = await marks_now(engine)
    messages, headers = nominations(target, workload, indices)
    posted: dict[str, float] = {}
    producer = AIOKafkaProducer(bootstrap_servers=target.bootstrap, linger_ms=0)
    await producer.start()
    try:
        for n, ((key, value), signature) in enumerate(zip(messages, headers, strict=True)):
            await asyncio.sleep(pause_s)
            posted[key.decode()] = time.time()
            await producer.send_and_wait(NOMINATIONS_INBOUND, value=value, key=key, headers=signature)
            deadline = time.monotonic() + timeout_s
            # A light query every 20 ms: one worker's events are all there is to scan.
            while await _enrolled_count(engine, marks["enrollment"], code) <= n:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
    finally:
        await producer.stop()
    stages = {stage.name: await first_times(engine, stage, marks, code) for stage in STAGES}
    refs = await source_refs(engine, marks, code)
    samples = [
        hop_times(posted[ref], {name: times[worker] for name, times in stages.items() if worker in times})
        for worker, ref in refs.items()
        if ref in posted
    ]
    return {
        "samples": len(indices),
        "enrolled": sum(1 for s in samples if f"{POSTED}→{STAGES[-1].name}" in s),
        "hops_s": summarise(samples),
    }
