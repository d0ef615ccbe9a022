"""What `lindung bench pipeline` reports: each stage's count and pace, events per second through
the stack, latencies (bulk and idle per hop), memory, machine time and SQL per worker, the broker
baseline, as the JSON in bench/results and the README's table take them; and the machine it ran
on."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

from lindung_cli.benchmarks import baseline


def percentiles(values: list[float], points: Sequence[int] = (50, 99)) -> dict[str, float]:
    """The `points` percentiles (inclusive method), max and mean of `values`, rounded to ms."""
    if not values:
        return {}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    found = {f"p{p}": round(cuts[p - 1], 3) for p in points}
    return found | {"max": round(ordered[-1], 3), "mean": round(statistics.fmean(ordered), 3)}


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
    # CPU seconds of every process of the stack from the first nomination sent to the last
    # enrolled (cpu.machine_time), SQL per worker and service (sql_counts.report), and the hops
    # of single nominations on the idle stack afterwards (idle_hops.measure).
    machine_time: dict[str, Any] = field(default_factory=dict)
    sql: dict[str, Any] = field(default_factory=dict)
    idle: dict[str, Any] = field(default_factory=dict)
    # The 1, 5 and 15 minute load averages before and after the run.
    load_avgs: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    # Each programme in the order nominated (`programme_entry`), when the run has several
    # (`programme_code` is then the first); empty for a run of one programme.
    programmes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        """Workers enrolled per second, first nomination sent to last EnrolledAtBPJS."""
        return self.enrolled / self.wall_s if self.wall_s else 0.0

    @property
    def events_per_s(self) -> float:
        """Events through the stack (inbound + every service's appends) per second of wall time."""
        return sum(self.events.values()) / self.wall_s if self.wall_s else 0.0

    @property
    def baseline_ratio(self) -> float | None:
        """Workers enrolled per second ÷ messages the plain client produced and consumed per second."""
        if self.baseline is None or not self.baseline.per_s:
            return None
        return self.per_s / self.baseline.per_s

    @property
    def events_baseline_ratio(self) -> float | None:
        """Events through the stack per second ÷ the plain client's messages per second."""
        if self.baseline is None or not self.baseline.per_s:
            return None
        return self.events_per_s / self.baseline.per_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "workers": self.workers,
            "programme_code": self.programme_code,
            # Only with several programmes: a run of one reports as it always did.
            **({"programmes": self.programmes} if self.programmes else {}),
            "instances": self.instances,
            "complete": self.complete,
            "load_avg_1m": {"before": round(self.load_avg[0], 2), "after": round(self.load_avg[1], 2)},
            "load_avg_1_5_15m": {
                "before": [round(v, 2) for v in self.load_avgs[0]],
                "after": [round(v, 2) for v in self.load_avgs[1]],
            },
            "enrolled": self.enrolled,
            "failures": self.failures,
            "events": {**self.events, "total": sum(self.events.values())},
            "events_per_s": round(self.events_per_s, 1),
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
            "events_to_baseline": None
            if self.events_baseline_ratio is None
            else round(self.events_baseline_ratio, 5),
            "machine_time": self.machine_time,
            "sql": self.sql,
            "idle_hops": self.idle,
            "series": {k: [[t, n] for t, n in v] for k, v in self.series.items()},
        }


def programme_entry(code: str, workers: int, enrolled_s: list[float]) -> dict[str, Any]:
    """One programme of a run of several: its workers, how many were enrolled, and when its first
    and last were (seconds after the first nomination sent), to read memory against."""
    return {
        "code": code,
        "workers": workers,
        "enrolled": len(enrolled_s),
        "first_enrolled_s": round(min(enrolled_s), 3) if enrolled_s else None,
        "last_enrolled_s": round(max(enrolled_s), 3) if enrolled_s else None,
    }


def load_averages() -> tuple[float, ...]:
    """The machine's 1, 5 and 15 minute load averages now."""
    return tuple(os.getloadavg())


def machine() -> dict[str, Any]:
    return {
        "cpus": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
