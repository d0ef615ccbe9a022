"""`lindung bench pipeline`: nominations through every stage to EnrolledAtBPJS, on a running stack.

The run defines a programme of its own with exactly enough seats (no decree to wait for), imports
a P3KE extract that lists its workers, publishes every nomination on the inbound topic as the
regency systems would, and waits until each worker is enrolled by the simulator (zero latency).

With `programmes` > 1 the workers are split into that many programmes, all defined before the
clock starts, and each programme's nominations are published once the previous programme's are
acknowledged, without waiting for them to be enrolled: a long run as the programmes live, one
programme-year after another (a programme is allocation's unit of state, so one giant programme
would grow without end). Nothing needs that wait: the programmes share no worker and no seat.
Every count, rate, latency and event total covers all of them; the idle samples use seats kept in
the last one.

Where the numbers come from:

* stage times are when each stage's event for a worker was published: the `sent_at` its
  service's outbox relay stamps once the broker has acknowledged it (PostgreSQL's clock: one clock
  for every service, and no consumer of our own to load the broker). They are read once, after
  the run; while it runs, only counts are read.
* nomination→enrolled latency: from the broker's acknowledgement of the inbound message to the
  EnrolledAtBPJS of the same worker (joined through the registry's WorkerNominated, which carries
  the message's `source_ref`), and from the registry's WorkerValidated to EnrolledAtBPJS.
* peak memory: the RSS of every service process and the broker, the PSS of PostgreSQL's tree,
  sampled twice a second (`memory.py`).
* machine time: the CPU seconds of every process of the stack (each service, the broker,
  PostgreSQL's whole tree; `cpu.py`), read with memory, from the first nomination sent to the last
  EnrolledAtBPJS, per worker.
* SQL: statements per service role (pg_stat_statements, when loaded), rows written per service
  schema and commits, from before the first nomination to when the stack is quiet again
  (`sql_counts.py`), per worker.
* per-hop latency at idle (`idle_hops.py`): once the bulk run is over and the stack quiet, single
  nominations of workers the programme kept seats for, posted one at a time.
* the broker baseline (`baseline.py`) runs after the pipeline has finished, on the same broker,
  with as many messages as nominations and each the average size of a nomination message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import date

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from lindung_cli.benchmarks import baseline, idle_hops, sql_counts
from lindung_cli.benchmarks.cpu import machine_time
from lindung_cli.benchmarks.memory import MemorySampler
from lindung_cli.benchmarks.pipeline_events import (
    FAILURES,
    STAGES,
    appended_since,
    counts_so_far,
    first_times,
    marks_now,
    source_refs,
)
from lindung_cli.benchmarks.pipeline_result import (
    PipelineResult,
    StageResult,
    load_averages,
    machine,
    percentiles,
    programme_entry,
)
from lindung_cli.benchmarks.pipeline_submit import submit, submit_in_turn
from lindung_cli.benchmarks.target import Target
from lindung_cli.benchmarks.workload import Workload, next_seed, p3ke_csv_of, shares

# `lindung bench pipeline` reads the machine from here, beside `run`.
__all__ = [
    "PipelineResult",
    "StageResult",
    "define_programmes",
    "machine",
    "run",
    "submit",
]

Progress = Callable[[dict[str, int]], None]


# --- preparing the run ------------------------------------------------------------------------


def define_programmes(
    target: Target, seats: Sequence[int], year: int, timeout_s: float = 60.0
) -> list[Workload]:
    """Bench programmes of `seats` workers each (the next seeds, defined one after another) and
    one P3KE extract listing the workers of them all (`workload.p3ke_csv_of`)."""
    headers = target.headers()
    with httpx.Client(timeout=httpx.Timeout(30.0, read=None), headers=headers) as client:
        existing = client.get(f"{target.url('allocation')}/programmes")
        existing.raise_for_status()
        first = next_seed([p["programme_code"] for p in existing.json()])
        workloads = [Workload(first + k, n, year) for k, n in enumerate(seats)]
        for workload in workloads:
            answer = client.post(
                f"{target.url('allocation')}/programmes",
                content=workload.programme_yaml(),
                headers={"content-type": "application/yaml"},
            )
            if answer.status_code != 201:
                raise RuntimeError(f"bench programme refused: {answer.status_code} {answer.text[:500]}")
        deadline = time.monotonic() + timeout_s
        codes = {w.programme_code for w in workloads}
        while not codes <= {
            p["programme_code"] for p in client.get(f"{target.url('registry')}/programmes").json()
        }:
            if time.monotonic() > deadline:
                raise TimeoutError("the registry did not learn the bench programmes")
            time.sleep(0.2)
        imported = client.post(
            f"{target.url('registry')}/reference/p3ke",
            content=p3ke_csv_of(workloads),
            params={"source": f"{workloads[0].programme_code}-p3ke.csv"},
        )
        if imported.status_code != 201:
            raise RuntimeError(f"P3KE import refused: {imported.status_code} {imported.text[:500]}")
    return workloads


async def _wait_enrollment_knows(engine: AsyncEngine, code: str, timeout_s: float = 60.0) -> None:
    """Enrollment reads the programme's premiums and period from ProgrammeDefined."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT 1 FROM enrollment.programmes WHERE programme_code = :code"), {"code": code}
            )
            if found.first():
                return
        if time.monotonic() > deadline:
            raise TimeoutError("enrollment did not learn the bench programme")
        await asyncio.sleep(0.2)


# --- measuring --------------------------------------------------------------------------------


def _series(times: list[float], t0: float) -> list[tuple[float, int]]:
    """Cumulative count per second since t0 (for the chart; small in the JSON)."""
    if not times:
        return []
    ordered = sorted(t - t0 for t in times)
    out: list[tuple[float, int]] = []
    i = 0
    second = 0.0
    while i < len(ordered):
        second += 1.0
        while i < len(ordered) and ordered[i] <= second:
            i += 1
        out.append((second, i))
    return out


async def run(
    target: Target,
    database_url: str,
    workers: int,
    *,
    label: str = "",
    timeout_s: float = 900.0,
    stall_s: float = 120.0,
    poll_s: float | None = None,
    partitions: int = 4,
    with_baseline: bool = True,
    idle_samples: int = 20,
    role_prefix: str = "lindung_",
    progress: Progress | None = None,
    programmes: int = 1,
) -> PipelineResult:
    """Push `workers` nominations through the stack at `target` and measure it (module docstring);
    the workers split into `programmes` programmes, nominated one programme after another."""
    year = date.today().year
    bulk = shares(workers, programmes)
    # Seats for the idle samples too, in the last programme: they are nominated after the bulk
    # run, by index.
    seats = [*bulk[:-1], bulk[-1] + idle_samples]
    workloads = await asyncio.to_thread(define_programmes, target, seats, year)
    codes = [w.programme_code for w in workloads]
    engine = make_engine(database_url, pool_size=2)
    try:
        for code in codes:
            await _wait_enrollment_knows(engine, code)
        marks = await marks_now(engine)
        # Settled too: the P3KE import's rows would otherwise be reported late, inside the run.
        sql_before = await sql_counts.read_settled(engine, role_prefix)
        load_before = load_averages()
        sampler = MemorySampler(target.pids).start()
        try:
            parts = [(w, range(n)) for w, n in zip(workloads, bulk, strict=True)]
            t0, submit_s, acked, size = await submit_in_turn(target, parts)
            # Counting scans every new event: rarer on big runs, so the bench barely loads the stack.
            every = poll_s or max(1.0, workers / 10_000)
            complete = await _wait_done(
                engine, marks, codes, workers, t0, timeout_s, stall_s, every, progress
            )
        finally:
            memory = sampler.stop()
            load_after = load_averages()
        firsts = {stage.name: await first_times(engine, stage, marks, codes) for stage in STAGES}
        counts = await counts_so_far(engine, marks, codes)
        # The source refs (`bench-<index>`) of each programme start at 0: read per programme.
        refs = {code: await source_refs(engine, marks, code) for code in codes}
        submitted_at = {
            worker: sent[int(ref.removeprefix("bench-"))]
            for code, sent in zip(codes, acked, strict=True)
            for worker, ref in refs[code].items()
        }
        appended = await appended_since(engine, marks)
        # After the services downstream of enrollment have caught up: their writes are the run's.
        sql = sql_counts.report(sql_before, await sql_counts.read_settled(engine, role_prefix), workers)
        idle = (
            await idle_hops.measure(target, engine, workloads[-1], range(bulk[-1], seats[-1]))
            if complete and idle_samples
            else {}
        )
    finally:
        await engine.dispose()
    stages = [
        StageResult(
            stage=stage.name,
            service=stage.schema,
            event_type=stage.event_type,
            count=len(firsts[stage.name]),
            first_s=min(firsts[stage.name].values(), default=t0) - t0,
            last_s=max(firsts[stage.name].values(), default=t0) - t0,
        )
        for stage in STAGES
    ]
    enrolled = firsts["enrolled"]
    latency = {
        "submitted_to_enrolled": percentiles(
            [at - submitted_at[w] for w, at in enrolled.items() if w in submitted_at]
        ),
        "validated_to_enrolled": percentiles(
            [at - firsts["validated"][w] for w, at in enrolled.items() if w in firsts["validated"]]
        ),
    }
    wall_s = (max(enrolled.values()) - t0) if enrolled else 0.0
    spent = sampler.cpu.between(t0, t0 + wall_s)
    base = await baseline.measure(target.bootstrap, workers, size, partitions) if with_baseline else None
    return PipelineResult(
        label=label
        or f"{target.instances().get('allocation', 1)}x allocation, "
        f"{target.instances().get('enrollment', 1)}x enrollment",
        workers=workers,
        programme_code=codes[0],
        programmes=[
            programme_entry(code, n, [enrolled[w] - t0 for w in refs[code] if w in enrolled])
            for code, n in zip(codes, bulk, strict=True)
        ]
        if programmes > 1
        else [],
        instances=target.instances(),
        submit_s=submit_s,
        message_bytes=size,
        stages=stages,
        failures={f.name: counts[f.name] for f in FAILURES},
        enrolled=len(enrolled),
        wall_s=wall_s,
        latency_s=latency,
        peak_mib=memory.peak_mib,
        mib_by_tenth=memory.by_part(10),
        baseline=base,
        series={name: _series(list(times.values()), t0) for name, times in firsts.items()},
        complete=complete,
        load_avg=(load_before[0], load_after[0]),
        load_avgs=(load_before, load_after),
        events={"inbound": workers, **appended},
        machine_time=machine_time(spent, workers, wall_s),
        sql=sql,
        idle=idle,
    )


async def _wait_done(
    engine: AsyncEngine,
    marks: dict[str, int],
    codes: list[str],
    workers: int,
    t0: float,
    timeout_s: float,
    stall_s: float,
    poll_s: float,
    progress: Progress | None,
) -> bool:
    """Until every worker is enrolled (True), or failures/time/lack of progress end the wait."""
    last: dict[str, int] = {}
    moved = time.time()
    while True:
        await asyncio.sleep(poll_s)
        counts = await counts_so_far(engine, marks, codes)
        if progress:
            progress(counts)
        now = time.time()
        if counts != last:
            last, moved = counts, now
        settled = counts["enrolled"] + counts["rejected"] + counts["waitlisted"] + counts["enrollment_failed"]
        if counts["enrolled"] >= workers:
            return True
        if settled >= workers or now - t0 > timeout_s or now - moved > stall_s:
            return False
