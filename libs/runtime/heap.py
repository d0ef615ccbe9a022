"""Give the C heap's freed memory back to the system after a busy spell (glibc only).

glibc keeps what a process frees in its malloc arenas: the large transient batches of a service
(Kafka records, JSON, asyncpg rows, pydantic models) leave megabytes free inside the heap that
the resident size keeps for the whole run, while the Python objects kept do not grow
(docs/architecture.md "Memory on a long run"). `malloc_trim(0)` returns the free pages; it is
called only when the free bytes inside the heap pass a threshold, checked every few seconds, so
an idle or steady service pays one `mallinfo2` call per check. Elsewhere (musl, macOS) nothing
is called.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

# `malloc_trim(pad)` and the free bytes inside the heap.
Heap = tuple[Callable[[int], int], Callable[[], int]]


class _MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (2.33+): `fordblks` is the free bytes inside the arenas."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def glibc_heap() -> Heap | None:
    """`malloc_trim` and the heap's free bytes of this process's glibc, or None without them."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim, info = libc.malloc_trim, libc.mallinfo2
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    info.argtypes, info.restype = [], _MallInfo2

    def free_bytes() -> int:
        return int(info().fordblks)

    return (lambda pad: int(trim(pad))), free_bytes


class HeapTrimmer:
    """Trims the heap when at least `min_free_bytes` lie free inside it; counts its CPU time."""

    def __init__(self, heap: Heap, min_free_bytes: int) -> None:
        self._trim, self._free_bytes = heap
        self.min_free_bytes = min_free_bytes
        self.trims = 0
        self.cpu_s = 0.0  # spent checking and trimming (the cost of this, said at stop)

    def trim_if_due(self) -> bool:
        """Trim when enough is free inside the heap; True when it trimmed."""
        started = time.thread_time()
        try:
            if self._free_bytes() < self.min_free_bytes:
                return False
            self._trim(0)
            self.trims += 1
            return True
        finally:
            self.cpu_s += time.thread_time() - started


def scheduled_trimming(
    name: str, interval_s: float, min_free_mib: int, heap: Heap | None
) -> Coroutine[Any, Any, None] | None:
    """The loop checking the heap every `interval_s`; None when off (0) or not on glibc."""
    if interval_s <= 0 or heap is None:
        return None
    trimmer = HeapTrimmer(heap, min_free_mib * 1024 * 1024)

    async def run() -> None:
        try:
            while True:
                await asyncio.sleep(interval_s)
                trimmer.trim_if_due()
        finally:
            log.info("%s heap trimmed %d times, %.3f s of CPU", name, trimmer.trims, trimmer.cpu_s)

    return run()
