"""Coverage periods, as closed date ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Period:
    """A closed range of days: both `start` and `end` are covered."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def overlaps(self, other: Period) -> bool:
        """True when at least one day is in both periods."""
        return self.start <= other.end and other.start <= self.end

    def contains(self, day: date) -> bool:
        """True when `day` is covered by this period."""
        return self.start <= day <= self.end
