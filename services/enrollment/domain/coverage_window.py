"""The covered days of one worker's window under one programme, from the facts known at one
instant with the coverage policy applied (coverage.py's `CoverageLedger` builds it and documents
the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from libs.events.contracts.coverage import CoverageReason
from services.enrollment.domain.months import YearMonth, months_from_to

if TYPE_CHECKING:
    from services.enrollment.domain.coverage import CoverageEnd

_ONE_DAY = timedelta(days=1)


CoveredPeriod = tuple[date, date]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The facts known at one instant, with the policy applied."""

    start: date
    end: date  # the programme's last day, or the last covered day once coverage ended
    paid: frozenset[YearMonth]
    recorded_ends: Mapping[YearMonth, date]
    grace_months: int
    ended: CoverageEnd | None = None

    window_end: date = date.max  # the programme's last day

    @property
    def first_month(self) -> YearMonth:
        return YearMonth.of(self.start)

    def months(self) -> list[YearMonth]:
        return months_from_to(self.first_month, YearMonth.of(self.end))

    def run_start(self, unpaid: YearMonth) -> YearMonth:
        """The first month of the run of unpaid months containing `unpaid`."""
        start = unpaid
        while start > self.first_month and start.plus(-1) not in self.paid:
            start = start.plus(-1)
        return start

    def covered_until(self, unpaid: YearMonth) -> date | None:
        """Last covered day of the unpaid run containing `unpaid`; None if coverage never began."""
        run_start = self.run_start(unpaid)
        if run_start == self.first_month:
            return None
        recorded = self.recorded_ends.get(run_start)
        if recorded is not None:
            return recorded
        return run_start.plus(self.grace_months - 1).last_day

    def reason_on(self, day: date) -> CoverageReason:
        """Why `day` (inside the window) is or is not covered."""
        month = YearMonth.of(day)
        if month in self.paid:
            return CoverageReason.PREMIUM_PAID
        until = self.covered_until(month)
        if until is not None and day <= until:
            return CoverageReason.IN_GRACE
        return CoverageReason.PREMIUM_UNPAID

    def covered_in(self, month: YearMonth) -> CoveredPeriod | None:
        """The covered days of `month`, which are always one unbroken stretch from its start."""
        low = max(month.first_day, self.start)
        high = min(month.last_day, self.end)
        if month in self.paid:
            return (low, high)
        until = self.covered_until(month)
        if until is None or until < low:
            return None
        return (low, min(high, until))

    def periods(self) -> list[CoveredPeriod]:
        merged: list[CoveredPeriod] = []
        for month in self.months():
            stretch = self.covered_in(month)
            if stretch is None:
                continue
            if merged and merged[-1][1] + _ONE_DAY == stretch[0]:
                merged[-1] = (merged[-1][0], stretch[1])
            else:
                merged.append(stretch)
        return merged
