"""Checks of a claim BPJS reports as paid, against coverage, benefit ceilings and earlier claims.

Checks never refuse a claim (BPJS has already paid it): they record it and flag what an officer
or auditor should look at. Rules chosen:

* Idempotency. A claim identical, field for field, to one already recorded under its claim id
  is a duplicate delivery: a no-op, with no flags (they were raised the first time). Any other
  claim is recorded, including a changed version of a known claim id, which is flagged.
* The same worker means the same KPJ or the same NIK: a worker registered twice (two KPJs from
  two funders) must not collect two death benefits unnoticed.
* A death claim is one of kind DEATH, under JKK or JKM: one person dies once, and a death is
  either from a work accident (JKK) or not (JKM).
* Coverage is judged once, when the claim is recorded, from the coverage facts claims hold then
  (domain/coverage.py); a month paid after that does not withdraw a MONTH_NOT_PAID flag (flags
  are events; BPJS has already paid). The flag names the reason; `GET /coverage` at enrollment
  gives today's view.
* The JKK claim window is counted to the paid date: the BPJS contract carries no filing date, and
  a claim is filed on or before it is paid, so a flagged claim was paid (perhaps not filed) late.
* A JKM scholarship needs the minimum membership on the day of the death (the incident), counted
  from the earliest day BPJS registered the worker under any programme we know.
* STMB pays for the inability from the incident to the paid date at the most: its ceiling is the
  STMB allowance of that period (benefits.stmb_allowance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum

from libs.events.contracts.coverage import CoverageReason
from libs.months import plus_months
from libs.wording import rupiah
from services.claims.domain.benefits import (
    BenefitKind,
    BenefitRules,
    Programme,
    ceiling_for,
    pays,
)
from services.claims.domain.flags import Flag, FlagCode, flag


@dataclass(frozen=True, slots=True)
class PaidClaim:
    """A claim BPJS paid, as it reported it."""

    claim_id: str
    kpj: str
    nik: str
    programme: Programme
    kind: BenefitKind
    incident_date: date
    paid_date: date
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount < 0:
            raise ValueError(f"claim {self.claim_id}: amount must be whole, non-negative rupiah")


@dataclass(frozen=True, slots=True)
class IncidentCoverage:
    """The coverage of the worker on the incident date: a reason code (domain/coverage.py
    CoverageReason) and, optionally, its specifics for officers (Indonesian)."""

    covered: bool
    reason: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimContext:
    """What the claims service knows when a claim arrives.

    `coverage` is None when the KPJ belongs to no participant of ours. `earlier_claims` holds
    the claims already recorded that share the claim id, KPJ or NIK, in recording order; others
    are ignored, so passing more is harmless. `membership_start` is the earliest day BPJS
    registered the worker (None: unknown).
    """

    coverage: IncidentCoverage | None
    earlier_claims: Sequence[PaidClaim]
    membership_start: date | None = None


class ClaimDecision(StrEnum):
    """What to do with an arriving claim."""

    RECORD = "RECORD"
    DUPLICATE_DELIVERY = "DUPLICATE_DELIVERY"


@dataclass(frozen=True, slots=True)
class ClaimReview:
    """The decision on a claim and its flags (always empty for a duplicate delivery)."""

    decision: ClaimDecision
    flags: tuple[Flag, ...]

    @property
    def codes(self) -> tuple[FlagCode, ...]:
        """The flag codes, in check order."""
        return tuple(f.code for f in self.flags)


def review_claim(claim: PaidClaim, context: ClaimContext, rules: BenefitRules) -> ClaimReview:
    """Decide whether `claim` is new and run every check on it, in a fixed order."""
    same_id = [c for c in context.earlier_claims if c.claim_id == claim.claim_id]
    if claim in same_id:
        return ClaimReview(ClaimDecision.DUPLICATE_DELIVERY, ())
    found = (
        _coverage_flag(claim, context.coverage),
        _window_flag(claim, rules),
        _amount_flag(claim, rules),
        _scholarship_flag(claim, context.membership_start, rules),
        _death_flag(claim, context.earlier_claims),
        _changed_flag(claim, same_id[-1] if same_id else None),
    )
    return ClaimReview(ClaimDecision.RECORD, tuple(f for f in found if f is not None))


def _coverage_flag(claim: PaidClaim, coverage: IncidentCoverage | None) -> Flag | None:
    if coverage is None:
        return flag(FlagCode.UNKNOWN_PARTICIPANT, f"KPJ {claim.kpj} tidak dikenal.")
    if coverage.covered:
        return None
    code = _CODE_FOR_REASON.get(coverage.reason, FlagCode.INCIDENT_OUTSIDE_COVERAGE)
    detail = coverage.detail or (
        f"Kejadian {claim.incident_date.isoformat()}: tidak terlindungi ({coverage.reason})."
    )
    return flag(code, detail)


# Reasons found inside the programme's period, each with its own flag; any other reason (outside
# the period) is INCIDENT_OUTSIDE_COVERAGE, the reason kept in its details.
_CODE_FOR_REASON: dict[str, FlagCode] = {
    CoverageReason.BEFORE_ENROLLMENT: FlagCode.BEFORE_ENROLLMENT,
    CoverageReason.IN_LAPSE: FlagCode.IN_LAPSE,
    CoverageReason.MONTH_NOT_PAID: FlagCode.MONTH_NOT_PAID,
    CoverageReason.COVERAGE_ENDED: FlagCode.COVERAGE_ENDED,
    CoverageReason.MEMBERSHIP_ENDED: FlagCode.MEMBERSHIP_ENDED,
}


def _window_flag(claim: PaidClaim, rules: BenefitRules) -> Flag | None:
    if claim.programme is not Programme.JKK:
        return None  # JKM claims have no time limit
    last_day = plus_months(claim.incident_date, 12 * rules.jkk_claim_window_years)
    if claim.paid_date <= last_day:
        return None
    return flag(
        FlagCode.JKK_CLAIM_WINDOW_PASSED,
        f"Kejadian {claim.incident_date.isoformat()}, dibayar {claim.paid_date.isoformat()}: "
        f"melewati batas {rules.jkk_claim_window_years} tahun ({last_day.isoformat()}).",
    )


def _scholarship_flag(claim: PaidClaim, start: date | None, rules: BenefitRules) -> Flag | None:
    if (claim.programme, claim.kind) != (Programme.JKM, BenefitKind.SCHOLARSHIP) or start is None:
        return None
    years = rules.jkm_scholarship_min_membership_years
    eligible_from = plus_months(start, 12 * years)
    if claim.incident_date >= eligible_from:
        return None
    return flag(
        FlagCode.SCHOLARSHIP_MEMBERSHIP_TOO_SHORT,
        f"Peserta sejak {start.isoformat()}, meninggal {claim.incident_date.isoformat()}: "
        f"kurang dari {years} tahun (beasiswa mulai {eligible_from.isoformat()}).",
    )


def _amount_flag(claim: PaidClaim, rules: BenefitRules) -> Flag | None:
    if not pays(claim.programme, claim.kind):
        return flag(
            FlagCode.BENEFIT_NOT_IN_PROGRAMME,
            f"{claim.programme} tidak membayar manfaat {claim.kind}.",
        )
    ceiling = ceiling_for(claim.programme, claim.kind, rules, (claim.incident_date, claim.paid_date))
    if ceiling is None or claim.amount <= ceiling:
        return None
    period = ""
    if claim.kind is BenefitKind.STMB:
        period = f" untuk {claim.incident_date.isoformat()} s.d. {claim.paid_date.isoformat()}"
    return flag(
        FlagCode.AMOUNT_ABOVE_BENEFIT,
        f"{claim.programme} {claim.kind}: dibayar {rupiah(claim.amount)}, batas {rupiah(ceiling)}{period}.",
    )


def _death_flag(claim: PaidClaim, earlier: Sequence[PaidClaim]) -> Flag | None:
    if claim.kind is not BenefitKind.DEATH:
        return None
    others = sorted(
        {
            c.claim_id
            for c in earlier
            if c.kind is BenefitKind.DEATH
            and c.claim_id != claim.claim_id
            and (c.kpj == claim.kpj or c.nik == claim.nik)
        }
    )
    if not others:
        return None
    return flag(
        FlagCode.DUPLICATE_DEATH_CLAIM,
        f"Klaim kematian lain untuk peserta yang sama: {', '.join(others)}.",
    )


def _changed_flag(claim: PaidClaim, previous: PaidClaim | None) -> Flag | None:
    if previous is None:
        return None
    if previous.amount != claim.amount:
        return flag(
            FlagCode.CLAIM_AMOUNT_CHANGED,
            f"Klaim {claim.claim_id}: sebelumnya {rupiah(previous.amount)}, sekarang {rupiah(claim.amount)}.",
        )
    changed = [f.name for f in fields(claim) if getattr(claim, f.name) != getattr(previous, f.name)]
    return flag(
        FlagCode.CLAIM_DETAILS_CHANGED,
        f"Klaim {claim.claim_id}: data berubah ({', '.join(changed)}).",
    )
