"""Coverage reason codes: why a day is, or is not, covered under a programme.

One vocabulary for every judge of coverage: enrollment's ledger (`GET /coverage`), claims'
check of an incident day (ClaimFlagged and its flags), and the auditor's `lindung audit
coverage`. The codes are stable: events, flags, reports and dashboards carry them. Each judge
answers with the codes of its own rule; the code means the same wherever it appears.
"""

from __future__ import annotations

from enum import StrEnum


class CoverageReason(StrEnum):
    """Why a day is, or is not, covered. Stable codes: they appear in events and reports."""

    # Where the day falls against the worker's enrollments (every judge).
    NOT_ENROLLED = "NOT_ENROLLED"
    BEFORE_COVERAGE_START = "BEFORE_COVERAGE_START"
    AFTER_COVERAGE_END = "AFTER_COVERAGE_END"
    BETWEEN_COVERAGE_PERIODS = "BETWEEN_COVERAGE_PERIODS"
    # The programme released the worker, or BPJS ended the BPU membership (too many months unpaid).
    COVERAGE_ENDED = "COVERAGE_ENDED"
    MEMBERSHIP_ENDED = "MEMBERSHIP_ENDED"
    # Enrollment's ledger: the month is paid, unpaid but still in grace, or unpaid past grace.
    PREMIUM_PAID = "PREMIUM_PAID"
    IN_GRACE = "IN_GRACE"
    PREMIUM_UNPAID = "PREMIUM_UNPAID"
    # Claims' check of an incident day (no grace): covered, before BPJS registered the worker,
    # in a recorded lapse, or in a month not paid when the claim was recorded.
    COVERED = "COVERED"
    BEFORE_ENROLLMENT = "BEFORE_ENROLLMENT"
    IN_LAPSE = "IN_LAPSE"
    MONTH_NOT_PAID = "MONTH_NOT_PAID"
    # The auditor's window view (enrollment window and recorded lapses only, no premiums).
    IN_COVERAGE_PERIOD = "IN_COVERAGE_PERIOD"
    LAPSED = "LAPSED"
