"""The business calendar every service dates its decisions with (today's date for programme
periods, billing, lapses, registrations and payments).

In production it is the system clock. A simulation of a programme year (the seed tests, `lindung
bench programme-year`, training) sets `LINDUNG_BUSINESS_CLOCK_FILE`: a file holding one ISO-8601
instant (`2025-03-01T09:00:00+07:00`) that every process reads, so one writer moves the whole
stack's calendar. Timeouts, retries and delays always run on real time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

Now = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FileClock:
    """Now is the instant written in `path` (re-read when the file changes)."""

    path: Path
    _seen: tuple[float, int] | None = field(default=None, init=False)
    _instant: datetime | None = field(default=None, init=False)

    def __call__(self) -> datetime:
        stat = os.stat(self.path)
        mark = (stat.st_mtime, stat.st_size)
        if mark != self._seen or self._instant is None:
            self._instant = parse_instant(self.path.read_text(encoding="utf-8"))
            self._seen = mark
        return self._instant


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant; a naive one is taken as UTC."""
    instant = datetime.fromisoformat(text.strip())
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def set_business_now(path: Path, instant: datetime) -> None:
    """Move the calendar of every process reading `path` (atomically: no reader sees half a line)."""
    if instant.tzinfo is None:
        raise ValueError("the business clock needs an aware instant")
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_text(instant.isoformat(), encoding="utf-8")
    os.replace(partial, path)


def business_clock(clock_file: str | None) -> Now:
    """The clock a process's settings ask for: the file's instant, or the system clock."""
    return FileClock(Path(clock_file)) if clock_file else system_now
