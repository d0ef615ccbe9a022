"""What `lindung bench pipeline` reports: each stage's count and pace, latencies, memory, the
broker baseline, as the JSON in bench/results and the README's table take them; and the machine
it ran on."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

from lindung_cli.benchmarks import baseline


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
