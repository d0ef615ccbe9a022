"""`lindung bench pipeline`: nominations through every stage to EnrolledAtBPJS, on a running stack.

The run defines a programme of its own with exactly enough seats (no decree to wait for), imports
a P3KE extract that lists its workers, publishes every nomination on the inbound topic as the
regency systems would, and waits until each worker is enrolled by the simulator (zero latency).

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
* the broker baseline (`baseline.py`) runs after the pipeline has finished, on the same broker,
  with as many messages as nominations and each the average size of a nomination message.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import httpx
import psutil
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events.topics import NOMINATIONS_INBOUND
from libs.service_names import SERVICES
from lindung_cli.benchmarks import baseline
from lindung_cli.benchmarks.memory import MemorySampler
from lindung_cli.benchmarks.target import Target
from lindung_cli.benchmarks.workload import Workload, next_seed

Progress = Callable[[dict[str, int]], None]


@dataclass(frozen=True)
class Stage:
    name: str
    schema: str
    event_type: str
    # Only this run's events: the programme code in the payload, or in the request id BPJS echoes.
    by_request_id: bool = False

    def match(self, alias: str = "") -> str:
        field = (
            f"{alias}payload->>'request_id' LIKE :request_suffix"
            if self.by_request_id
            else f"{alias}payload->>'programme_code' = :code"
        )
        return f"{alias}event_type = '{self.event_type}' AND {field}"

    def where(self) -> str:
        return f"position > :start AND {self.match()}"


STAGES: tuple[Stage, ...] = (
    Stage("validated", "registry", "WorkerValidated"),
    Stage("assigned", "allocation", "QuotaAssigned"),
    Stage("requested", "enrollment", "RegistrationRequested"),
    Stage("answered", "bpjs_simulator", "RegistrationAccepted", by_request_id=True),
    Stage("enrolled", "enrollment", "EnrolledAtBPJS"),
)
# Outcomes that mean a worker will not be enrolled (or not soon): counted, and the run ends early.
FAILURES: tuple[Stage, ...] = (
    Stage("rejected", "registry", "WorkerRejected"),
    Stage("waitlisted", "allocation", "QuotaWaitlisted"),
    Stage("bpjs_rejected", "bpjs_simulator", "RegistrationRejected", by_request_id=True),
    Stage("enrollment_failed", "enrollment", "EnrollmentFailed"),
)
# The schemas the stages are read from, in the services' order.
SCHEMAS = tuple(s for s in SERVICES if any(stage.schema == s for stage in (*STAGES, *FAILURES)))


@dataclass
class StageResult:
    stage: str
    service: str
    event_type: str
    count: int
    first_s: float  # seconds after the first nomination was sent
    last_s: float

    @property
    def per_s(self) -> float:
        span = self.last_s - self.first_s
        return self.count / span if span > 0 else 0.0


@dataclass
class PipelineResult:
    label: str
    workers: int
    programme_code: str
    instances: dict[str, int]
    submit_s: float
    message_bytes: int
    stages: list[StageResult]
    failures: dict[str, int]
    enrolled: int
    wall_s: float
    latency_s: dict[str, dict[str, float]]
    peak_mib: dict[str, float]
    baseline: baseline.BaselineResult | None
    # Peak in each tenth of the run per process (MiB): a bounded service levels off.
    mib_by_tenth: dict[str, list[float]] = field(default_factory=dict)
    series: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    complete: bool = True
    # The machine is shared (tests may run beside the bench): its load says how much.
    load_avg: tuple[float, float] = (0.0, 0.0)
    # Events each service appended during the run (all published through its outbox), plus the
    # inbound nominations: what went through the stack.
    events: dict[str, int] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        """Workers enrolled per second, first nomination sent to last EnrolledAtBPJS."""
        return self.enrolled / self.wall_s if self.wall_s else 0.0

    @property
    def baseline_ratio(self) -> float | None:
        if self.baseline is None or not self.baseline.per_s:
            return None
        return self.per_s / self.baseline.per_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "workers": self.workers,
            "programme_code": self.programme_code,
            "instances": self.instances,
            "complete": self.complete,
            "load_avg_1m": {"before": round(self.load_avg[0], 2), "after": round(self.load_avg[1], 2)},
            "enrolled": self.enrolled,
            "failures": self.failures,
            "events": {**self.events, "total": sum(self.events.values())},
            "submit": {
                "seconds": round(self.submit_s, 3),
                "per_s": round(self.workers / self.submit_s, 1) if self.submit_s else None,
                "message_bytes": self.message_bytes,
            },
            "wall_s": round(self.wall_s, 3),
            "pipeline_per_s": round(self.per_s, 1),
            "stages": [
                {
                    **asdict(s),
                    "per_s": round(s.per_s, 1),
                    "first_s": round(s.first_s, 3),
                    "last_s": round(s.last_s, 3),
                }
                for s in self.stages
            ],
            "latency_s": self.latency_s,
            "peak_mib": {k: round(v, 1) for k, v in sorted(self.peak_mib.items())},
            "mib_by_tenth_of_run": {k: [round(m) for m in v] for k, v in sorted(self.mib_by_tenth.items())},
            "baseline": None
            if self.baseline is None
            else {
                **asdict(self.baseline),
                "produce_per_s": round(self.baseline.produce_per_s, 1),
                "per_s": round(self.baseline.per_s, 1),
            },
            "pipeline_to_baseline": None if self.baseline_ratio is None else round(self.baseline_ratio, 5),
            "series": {k: [[t, n] for t, n in v] for k, v in self.series.items()},
        }


def machine() -> dict[str, Any]:
    return {
        "cpus": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }


# --- preparing the run ------------------------------------------------------------------------


def define_programme(target: Target, workers: int, year: int, timeout_s: float = 60.0) -> Workload:
    """A new bench programme (next seed) and the P3KE extract listing its workers."""
    headers = target.headers()
    with httpx.Client(timeout=httpx.Timeout(30.0, read=None), headers=headers) as client:
        existing = client.get(f"{target.url('allocation')}/programmes")
        existing.raise_for_status()
        workload = Workload(next_seed([p["programme_code"] for p in existing.json()]), workers, year)
        answer = client.post(
            f"{target.url('allocation')}/programmes",
            content=workload.programme_yaml(),
            headers={"content-type": "application/yaml"},
        )
        if answer.status_code != 201:
            raise RuntimeError(f"bench programme refused: {answer.status_code} {answer.text[:500]}")
        deadline = time.monotonic() + timeout_s
        while not any(
            p["programme_code"] == workload.programme_code
            for p in client.get(f"{target.url('registry')}/programmes").json()
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("the registry did not learn the bench programme")
            time.sleep(0.2)
        imported = client.post(
            f"{target.url('registry')}/reference/p3ke",
            content=workload.p3ke_csv(),
            params={"source": f"{workload.programme_code}-p3ke.csv"},
        )
        if imported.status_code != 201:
            raise RuntimeError(f"P3KE import refused: {imported.status_code} {imported.text[:500]}")
    return workload


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


async def _marks(engine: AsyncEngine) -> dict[str, int]:
    """The last event position of each schema: the run reads only what comes after."""
    async with engine.connect() as conn:
        return {
            schema: int(
                (
                    await conn.execute(text(f"SELECT coalesce(max(position), 0) FROM {schema}.events"))
                ).scalar_one()
            )
            for schema in SCHEMAS
        }


def _params(stage: Stage, marks: dict[str, int], code: str) -> dict[str, Any]:
    return {"start": marks[stage.schema], "code": code, "request_suffix": f"%:{code}"}


async def _counts(engine: AsyncEngine, marks: dict[str, int], code: str) -> dict[str, int]:
    """Events per stage so far: one scan of each schema's new events."""
    found: dict[str, int] = {}
    async with engine.connect() as conn:
        for schema in SCHEMAS:
            mine = [s for s in (*STAGES, *FAILURES) if s.schema == schema]
            columns = ", ".join(f"count(*) FILTER (WHERE {s.match()}) AS {s.name}" for s in mine)
            sql = text(f"SELECT {columns} FROM {schema}.events WHERE position > :start")
            row = (await conn.execute(sql, _params(mine[0], marks, code))).one()
            found.update({s.name: int(getattr(row, s.name)) for s in mine})
    return found


async def _first_times(
    engine: AsyncEngine, stage: Stage, marks: dict[str, int], code: str
) -> dict[str, float]:
    """worker_id → epoch seconds when the stage's first event for that worker was on the broker.

    The relay's `sent_at` (after the broker acknowledged) rather than the event's `recorded_at`:
    that is the start of the transaction, and one transaction decides a whole consumer batch.
    """
    sql = text(
        "SELECT e.payload->>'worker_id' AS worker_id, "
        "extract(epoch FROM min(coalesce(o.sent_at, e.recorded_at))) AS at "
        f"FROM {stage.schema}.events e LEFT JOIN {stage.schema}.outbox o ON o.event_id = e.event_id "
        f"WHERE e.position > :start AND {stage.match('e.')} "
        "GROUP BY 1"
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, _params(stage, marks, code))).all()
    return {str(r.worker_id): float(r.at) for r in rows}


async def _source_refs(engine: AsyncEngine, marks: dict[str, int], code: str) -> dict[str, str]:
    """worker_id → the inbound message's source_ref (`bench-<index>`)."""
    sql = text(
        "SELECT payload->>'worker_id' AS worker_id, payload->>'source_ref' AS ref FROM registry.events "
        "WHERE position > :start AND event_type = 'WorkerNominated' AND payload->>'programme_code' = :code"
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, {"start": marks["registry"], "code": code})).all()
    return {str(r.worker_id): str(r.ref) for r in rows}


# --- measuring --------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {
        "p50": round(cuts[49], 3),
        "p99": round(cuts[98], 3),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


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


async def submit(target: Target, workload: Workload) -> tuple[float, float, list[float], int]:
    """Publish every nomination; (t0, seconds, ack time per worker index, mean message bytes)."""
    messages = [
        (
            workload.worker(i).source_ref.encode(),
            workload.submitted(workload.worker(i)).model_dump_json().encode(),
        )
        for i in range(workload.workers)
    ]
    size = sum(len(v) for _, v in messages) // max(1, len(messages))
    # Signed as each regency's system signs (before the clock starts: the stack's work is measured).
    signers = target.signers()
    headers = [
        signers[producer].headers(value) if producer in signers else []
        for producer, (_, value) in zip(
            (f"regency-{workload.worker(i).regency}" for i in range(workload.workers)), messages, strict=True
        )
    ]
    producer = AIOKafkaProducer(bootstrap_servers=target.bootstrap)
    await producer.start()
    try:
        t0 = time.time()
        acked = await baseline.send_all(producer, NOMINATIONS_INBOUND, messages, headers)
        elapsed = time.time() - t0
    finally:
        await producer.stop()
    return t0, elapsed, acked, size


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
    progress: Progress | None = None,
) -> PipelineResult:
    year = date.today().year
    workload = await asyncio.to_thread(define_programme, target, workers, year)
    code = workload.programme_code
    engine = make_engine(database_url, pool_size=2)
    try:
        await _wait_enrollment_knows(engine, code)
        marks = await _marks(engine)
        load_before = os.getloadavg()[0]
        sampler = MemorySampler(target.pids).start()
        try:
            t0, submit_s, acked, size = await submit(target, workload)
            # Counting scans every new event: rarer on big runs, so the bench barely loads the stack.
            every = poll_s or max(1.0, workers / 10_000)
            complete = await _wait_done(engine, marks, code, workers, t0, timeout_s, stall_s, every, progress)
        finally:
            memory = sampler.stop()
            load_after = os.getloadavg()[0]
        firsts = {stage.name: await _first_times(engine, stage, marks, code) for stage in STAGES}
        counts = await _counts(engine, marks, code)
        refs = await _source_refs(engine, marks, code)
        appended = await _appended(engine, marks)
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
    submitted_at = {w: acked[int(ref.removeprefix("bench-"))] for w, ref in refs.items()}
    latency = {
        "submitted_to_enrolled": _percentiles(
            [at - submitted_at[w] for w, at in enrolled.items() if w in submitted_at]
        ),
        "validated_to_enrolled": _percentiles(
            [at - firsts["validated"][w] for w, at in enrolled.items() if w in firsts["validated"]]
        ),
    }
    base = await baseline.measure(target.bootstrap, workers, size, partitions) if with_baseline else None
    return PipelineResult(
        label=label
        or f"{target.instances().get('allocation', 1)}x allocation, "
        f"{target.instances().get('enrollment', 1)}x enrollment",
        workers=workers,
        programme_code=code,
        instances=target.instances(),
        submit_s=submit_s,
        message_bytes=size,
        stages=stages,
        failures={f.name: counts[f.name] for f in FAILURES},
        enrolled=len(enrolled),
        wall_s=(max(enrolled.values()) - t0) if enrolled else 0.0,
        latency_s=latency,
        peak_mib=memory.peak_mib,
        mib_by_tenth=memory.by_part(10),
        baseline=base,
        series={name: _series(list(times.values()), t0) for name, times in firsts.items()},
        complete=complete,
        load_avg=(load_before, load_after),
        events={"inbound": workers, **appended},
    )


async def _appended(engine: AsyncEngine, marks: dict[str, int]) -> dict[str, int]:
    """Events appended to each schema since `marks` (the dashboard's included: it consumes)."""
    async with engine.connect() as conn:
        return {
            schema: int(
                (
                    await conn.execute(
                        text(f"SELECT count(*) FROM {schema}.events WHERE position > :start"),
                        {"start": marks[schema]},
                    )
                ).scalar_one()
            )
            for schema in SCHEMAS
        }


async def _wait_done(
    engine: AsyncEngine,
    marks: dict[str, int],
    code: str,
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
        counts = await _counts(engine, marks, code)
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
