"""Calendar months (YYYY-MM): the unit in which BPJS premiums are billed and paid."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True, slots=True)
class YearMonth:
    """One calendar month; ordered, so ranges of months compare naturally."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        """Read the `YYYY-MM` form used in events (e.g. `2025-03`)."""
        found = _YEAR_MONTH.fullmatch(text)
        if found is None:
            raise ValueError(f"not a YYYY-MM month: {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> YearMonth:
        """The month that contains `day`."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        """The 1st of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last day of the month (leap years included)."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def plus(self, months: int) -> YearMonth:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + (self.month - 1) + months
        return YearMonth(index // 12, index % 12 + 1)


def months_from_to(first: YearMonth, last: YearMonth) -> list[YearMonth]:
    """Every month from `first` to `last`, both included; empty when `last` is before `first`."""
    months: list[YearMonth] = []
    current = first
    while current <= last:
        months.append(current)
        current = current.plus(1)
    return months
