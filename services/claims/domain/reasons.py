"""What a flag on a claim says in its event: the contract's Reason for a domain flag, with the
specifics an officer needs (the programme and coverage facts, or the new version of a changed
claim)."""

from __future__ import annotations

from datetime import date

from libs.events.contracts.common import Reason
from libs.events.contracts.coverage import CoverageReason
from services.claims.domain.checks import IncidentCoverage, PaidClaim
from services.claims.domain.coverage import CoverageFinding
from services.claims.domain.flags import Flag, FlagCode

# Flags raised on a new version of a known claim id: their details carry that version's fields,
# so the stream alone tells every version BPJS reported (ClaimRecorded holds only the first).
CHANGED = frozenset({FlagCode.CLAIM_AMOUNT_CHANGED, FlagCode.CLAIM_DETAILS_CHANGED})

# Flags that judge coverage: their details name the programme and the facts behind the verdict.
COVERAGE_FLAGS = frozenset(
    {
        FlagCode.INCIDENT_OUTSIDE_COVERAGE,
        FlagCode.BEFORE_ENROLLMENT,
        FlagCode.IN_LAPSE,
        FlagCode.MONTH_NOT_PAID,
        FlagCode.COVERAGE_ENDED,
        FlagCode.MEMBERSHIP_ENDED,
    }
)
# Reasons outside the programme's period keep the plain message ("tidak terlindungi (REASON)").
_WINDOW_REASONS = frozenset(
    {
        CoverageReason.BEFORE_COVERAGE_START,
        CoverageReason.AFTER_COVERAGE_END,
        CoverageReason.BETWEEN_COVERAGE_PERIODS,
    }
)


def incident_coverage(finding: CoverageFinding, incident: date) -> IncidentCoverage | None:
    """The checks' view of a coverage finding (None: nobody we pay for)."""
    p = finding.programme
    if p is None:
        return None
    detail = None if finding.reason in _WINDOW_REASONS else p.explain(incident, finding.reason)
    return IncidentCoverage(finding.covered, finding.reason.value, detail)


def reason_of(found: Flag, claim: PaidClaim, finding: CoverageFinding, previous: PaidClaim | None) -> Reason:
    """The contract's Reason for one domain flag, with the specifics an officer needs."""
    details = {"detail": found.detail}
    if found.code in COVERAGE_FLAGS and finding.programme is not None:
        p = finding.programme
        details["programme_code"] = p.programme_code
        details["coverage_start"] = p.coverage_start.isoformat()
        details["coverage_end"] = p.coverage_end.isoformat()
        details["coverage_reason"] = finding.reason.value
        details["enrolled_on"] = p.first_enrolled_on.isoformat()
        end = p.end_in_force(claim.incident_date)
        if end is not None:
            details["ended_on"] = end.ended_on.isoformat()
            details["end_reason"] = end.reason
    elif found.code in CHANGED:
        details |= {
            "programme": claim.programme.value,
            "benefit_kind": claim.kind.value,
            "incident_date": claim.incident_date.isoformat(),
            "paid_date": claim.paid_date.isoformat(),
            "amount": str(claim.amount),
        }
        if previous is not None:
            details["previous_amount"] = str(previous.amount)
    return Reason(code=found.code.value, message=found.message, details=details)
