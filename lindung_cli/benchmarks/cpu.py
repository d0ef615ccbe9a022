"""Machine time of the stack's processes: CPU seconds (user + system) per process label, sampled
beside memory while a benchmark runs, and the time each spent between two instants.

A service or broker is one process (its children's time, if any, is added once they are reaped).
PostgreSQL is a postmaster and a backend per connection, and backends come and go: the tree's
time is every live process's own time plus what the postmaster has reaped of its ended children.
Read that way the total only grows, so a difference between two readings is the time spent
between them, whichever backends started or ended in between.
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass, field
from typing import Any

import psutil


def _own(times: Any) -> float:
    return float(times.user + times.system)


def _reaped(times: Any) -> float:
    return float(getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0))


def process_seconds(process: psutil.Process, tree: bool = False) -> float:
    """CPU seconds of `process` and its reaped children; with `tree`, of its live descendants too."""
    times = process.cpu_times()
    total = _own(times) + _reaped(times)
    if tree:
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += _own(child.cpu_times())
    return total


def cpu_once(processes: dict[str, psutil.Process]) -> dict[str, float]:
    """CPU seconds per label now (PostgreSQL: its whole tree); a process that has gone is left out."""
    found: dict[str, float] = {}
    for label, process in processes.items():
        with contextlib.suppress(psutil.Error):
            found[label] = process_seconds(process, tree=label == "postgres")
    return found


@dataclass
class CpuSeries:
    """Readings of CPU seconds per label, at wall-clock (epoch) instants in increasing order."""

    at: list[float] = field(default_factory=list)
    readings: list[dict[str, float]] = field(default_factory=list)

    def add(self, at: float, reading: dict[str, float]) -> None:
        self.at.append(at)
        self.readings.append(reading)

    def value(self, label: str, at: float) -> float | None:
        """Seconds used by `label` up to `at`, interpolated between the readings around it (the
        nearest reading outside them); None when it was never read."""
        points = [(t, r[label]) for t, r in zip(self.at, self.readings, strict=True) if label in r]
        if not points:
            return None
        times = [t for t, _ in points]
        i = bisect.bisect_left(times, at)
        if i == 0:
            return points[0][1]
        if i == len(points):
            return points[-1][1]
        (t0, v0), (t1, v1) = points[i - 1], points[i]
        return v0 + (v1 - v0) * (at - t0) / (t1 - t0) if t1 > t0 else v1

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per label spent from `start` to `end` (epoch seconds)."""
        labels = sorted({label for r in self.readings for label in r})
        spent: dict[str, float] = {}
        for label in labels:
            first, last = self.value(label, start), self.value(label, end)
            if first is not None and last is not None:
                spent[label] = max(0.0, last - first)
        return spent


def machine_time(spent: dict[str, float], workers: int, seconds: float) -> dict[str, object]:
    """The report of CPU seconds `spent` per process over a run of `workers` lasting `seconds`:
    the whole stack's total, per worker (ms), and how many cores it kept busy on average."""
    total = sum(spent.values())
    per_worker = 1000 * total / workers if workers else 0.0
    return {
        "cpu_s": round(total, 2),
        "ms_per_worker": round(per_worker, 3),
        "cores_busy": round(total / seconds, 2) if seconds > 0 else None,
        "seconds": round(seconds, 3),
        "by_process": {
            label: {
                "cpu_s": round(s, 2),
                "ms_per_worker": round(1000 * s / workers, 3) if workers else 0.0,
            }
            for label, s in sorted(spent.items(), key=lambda item: -item[1])
        },
    }
