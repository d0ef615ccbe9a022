"""The claims service's own, simple view of coverage: was the claimant covered on the incident day?

Built from EnrolledAtBPJS alone (KPJ, worker id, coverage window): a worker is covered on a day
that falls within `coverage_start..coverage_end` of one of their enrollments, found by the claim's
KPJ or by the worker id its NIK maps to (the same person under another KPJ). Reason codes follow
enrollment's coverage vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.claims.domain.checks import IncidentCoverage

IN_COVERAGE_PERIOD = "IN_COVERAGE_PERIOD"
BEFORE_COVERAGE_START = "BEFORE_COVERAGE_START"
AFTER_COVERAGE_END = "AFTER_COVERAGE_END"
BETWEEN_COVERAGE_PERIODS = "BETWEEN_COVERAGE_PERIODS"


@dataclass(frozen=True, slots=True)
class CoveragePeriod:
    """One enrollment of a worker under a programme, as EnrolledAtBPJS reported it."""

    worker_id: str
    programme_code: str
    kpj: str
    regency_code: str
    coverage_start: date
    coverage_end: date

    def covers(self, day: date) -> bool:
        return self.coverage_start <= day <= self.coverage_end


@dataclass(frozen=True, slots=True)
class CoverageFinding:
    """The coverage on the incident day (None: nobody we know) and the enrollment the claim
    belongs to (the covering one, else the nearest before the incident, else the first)."""

    coverage: IncidentCoverage | None
    period: CoveragePeriod | None


def coverage_on(periods: Sequence[CoveragePeriod], kpj: str, incident: date) -> CoverageFinding:
    """Judge `incident` against the enrollments found for the claim (by KPJ or worker id)."""
    if not periods:
        return CoverageFinding(None, None)
    # The claim's own KPJ first, then the earliest start: a stable choice whatever the row order.
    ordered = sorted(periods, key=lambda p: (p.kpj != kpj, p.coverage_start, p.programme_code))
    covering = [p for p in ordered if p.covers(incident)]
    if covering:
        return CoverageFinding(IncidentCoverage(True, IN_COVERAGE_PERIOD), covering[0])
    before = [p for p in ordered if p.coverage_end < incident]
    if all(p.coverage_start > incident for p in ordered):
        reason = BEFORE_COVERAGE_START
    elif len(before) == len(ordered):
        reason = AFTER_COVERAGE_END
    else:
        reason = BETWEEN_COVERAGE_PERIODS
    nearest = max(before, key=lambda p: p.coverage_end) if before else ordered[0]
    return CoverageFinding(IncidentCoverage(False, reason), nearest)
