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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum

from services.claims.domain.benefits import (
    BenefitKind,
    BenefitRules,
    Programme,
    ceiling_for,
    pays,
)
from services.claims.domain.flags import Flag, FlagCode, flag, rupiah


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
    """The enrollment view of the worker on the incident date (a reason code from coverage)."""

    covered: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ClaimContext:
    """What the claims service knows when a claim arrives.

    `coverage` is None when the KPJ belongs to no participant of ours. `earlier_claims` holds
    the claims already recorded that share the claim id, KPJ or NIK, in recording order; others
    are ignored, so passing more is harmless.
    """

    coverage: IncidentCoverage | None
    earlier_claims: Sequence[PaidClaim]


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
        _amount_flag(claim, rules),
        _death_flag(claim, context.earlier_claims),
        _changed_flag(claim, same_id[-1] if same_id else None),
    )
    return ClaimReview(ClaimDecision.RECORD, tuple(f for f in found if f is not None))


def _coverage_flag(claim: PaidClaim, coverage: IncidentCoverage | None) -> Flag | None:
    if coverage is None:
        return flag(FlagCode.UNKNOWN_PARTICIPANT, f"KPJ {claim.kpj} tidak dikenal.")
    if coverage.covered:
        return None
    return flag(
        FlagCode.INCIDENT_OUTSIDE_COVERAGE,
        f"Kejadian {claim.incident_date.isoformat()}: tidak terlindungi ({coverage.reason}).",
    )


def _amount_flag(claim: PaidClaim, rules: BenefitRules) -> Flag | None:
    if not pays(claim.programme, claim.kind):
        return flag(
            FlagCode.BENEFIT_NOT_IN_PROGRAMME,
            f"{claim.programme} tidak membayar manfaat {claim.kind}.",
        )
    ceiling = ceiling_for(claim.programme, claim.kind, rules)
    if ceiling is None or claim.amount <= ceiling:
        return None
    return flag(
        FlagCode.AMOUNT_ABOVE_BENEFIT,
        f"{claim.programme} {claim.kind}: dibayar {rupiah(claim.amount)}, batas {rupiah(ceiling)}.",
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
