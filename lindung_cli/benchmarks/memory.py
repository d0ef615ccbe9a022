"""Resident memory of the stack's processes, sampled in a thread while a benchmark runs.

Each service process is read as its RSS. PostgreSQL is a postmaster and one backend per
connection, all mapping the same shared buffers: their RSS would count those once per backend,
so the tree is read as the sum of PSS (shared pages divided among the processes that map them).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

import psutil

from lindung_cli.benchmarks.cpu import CpuSeries, cpu_once

MIB = 1024 * 1024


@dataclass
class MemorySeries:
    """Peak and samples (seconds since start, MiB) per process label."""

    peak_mib: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def add(self, label: str, at_s: float, mib: float) -> None:
        self.peak_mib[label] = max(self.peak_mib.get(label, 0.0), mib)
        self.samples.setdefault(label, []).append((round(at_s, 2), round(mib, 1)))

    def by_part(self, parts: int = 10) -> dict[str, list[float]]:
        """The peak in each of `parts` equal spans of the run, per label: memory that is bounded
        levels off, memory that leaks keeps climbing to the last span."""
        end = max((t for samples in self.samples.values() for t, _ in samples), default=0.0)
        found: dict[str, list[float]] = {}
        for label, samples in self.samples.items():
            peaks = [0.0] * parts
            for t, mib in samples:
                part = min(parts - 1, int(parts * t / end)) if end else 0
                peaks[part] = max(peaks[part], mib)
            found[label] = peaks
        return found


def _tree_pss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            info = p.memory_full_info()
            total += int(getattr(info, "pss", info.rss))
    return total


def sample_once(processes: dict[str, psutil.Process]) -> dict[str, float]:
    """MiB per label now (a process that has gone is left out)."""
    found: dict[str, float] = {}
    for label, process in processes.items():
        try:
            value = _tree_pss(process) if label == "postgres" else process.memory_info().rss
        except psutil.Error:
            continue
        found[label] = value / MIB
    return found


class MemorySampler:
    """Samples memory (and CPU seconds, into `cpu`) every `interval_s` from `start()` to `stop()`."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.5) -> None:
        self.processes: dict[str, psutil.Process] = {}
        for label, pid in pids.items():
            with contextlib.suppress(psutil.Error):
                self.processes[label] = psutil.Process(pid)
        self.interval_s = interval_s
        self.series = MemorySeries()
        self.cpu = CpuSeries()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = 0.0

    def start(self) -> MemorySampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> MemorySeries:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        return self.series

    def _run(self) -> None:
        while True:
            at = time.monotonic() - self._started
            self.cpu.add(time.time(), cpu_once(self.processes))
            for label, mib in sample_once(self.processes).items():
                self.series.add(label, at, mib)
            if self._stop.wait(self.interval_s):
                return
