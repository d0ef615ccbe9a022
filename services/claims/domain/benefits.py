"""Benefit ceilings of JKK and JKM, used to flag claims paid above what the rules allow.

Which programme pays which kind follows PP 44/2015 as amended by PP 82/2019: JKK (work accident)
pays medical care, temporary inability to work (STMB), disability, death, funeral, periodic and
scholarship benefits; JKM (death not from work) pays a lump sum, periodic and funeral benefits and
scholarships. DEATH is the whole death bundle paid at once, under either programme: JKM's lump sum
+ periodic + funeral (Rp42,000,000), JKK's 48 x declared wage + funeral + periodic. A kind the
programme does not pay has no ceiling at all: see `pays`.

STMB is paid for a period, so its ceiling depends on it: 100% of the declared wage for the first
`stmb_full_months` after the incident, then `stmb_later_percent`; per day, a month's wage / 30.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum

from libs.months import plus_months


class Programme(StrEnum):
    """The two BPJS Ketenagakerjaan programmes this assistance pays for."""

    JKK = "JKK"
    JKM = "JKM"


class BenefitKind(StrEnum):
    """What a claim paid for."""

    DEATH = "DEATH"
    FUNERAL = "FUNERAL"
    LUMP_SUM = "LUMP_SUM"
    PERIODIC = "PERIODIC"
    MEDICAL = "MEDICAL"
    SCHOLARSHIP = "SCHOLARSHIP"
    DISABILITY = "DISABILITY"
    STMB = "STMB"


@dataclass(frozen=True, slots=True)
class BenefitRules:
    """Benefit amounts in whole rupiah, and the time rules of claims in whole years, months or
    percent. Configuration, never hard-coded. A ceiling of None means "as needed": claims of that
    kind are never flagged for their amount."""

    declared_monthly_wage: int
    jkk_death_multiplier: int
    jkk_disability_multiplier: int
    jkk_funeral: int
    jkk_periodic: int
    jkk_medical_ceiling: int | None
    jkk_scholarship_ceiling: int | None
    jkm_total: int
    jkm_lump_sum: int
    jkm_periodic: int
    jkm_funeral: int
    jkm_scholarship_ceiling: int | None
    stmb_full_months: int
    stmb_later_percent: int
    jkk_claim_window_years: int
    jkm_scholarship_min_membership_years: int

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name.endswith("_ceiling"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{field.name} must be a whole, non-negative number")
        # JKM DEATH is the three parts paid at once; a total that disagrees is a typo in config.
        parts = self.jkm_lump_sum + self.jkm_periodic + self.jkm_funeral
        if parts != self.jkm_total:
            raise ValueError(f"jkm_total {self.jkm_total} != lump sum + periodic + funeral {parts}")
        if self.stmb_later_percent > 100:
            raise ValueError(f"stmb_later_percent {self.stmb_later_percent} is above 100")


class BenefitNotPaidError(ValueError):
    """The programme does not pay this kind of benefit."""


_CEILINGS: Mapping[tuple[Programme, BenefitKind], Callable[[BenefitRules], int | None]] = {
    (Programme.JKK, BenefitKind.DEATH): (
        lambda r: r.jkk_death_multiplier * r.declared_monthly_wage + r.jkk_funeral + r.jkk_periodic
    ),
    (Programme.JKK, BenefitKind.DISABILITY): (
        lambda r: r.jkk_disability_multiplier * r.declared_monthly_wage
    ),
    (Programme.JKK, BenefitKind.FUNERAL): lambda r: r.jkk_funeral,
    (Programme.JKK, BenefitKind.PERIODIC): lambda r: r.jkk_periodic,
    (Programme.JKK, BenefitKind.MEDICAL): lambda r: r.jkk_medical_ceiling,
    (Programme.JKK, BenefitKind.SCHOLARSHIP): lambda r: r.jkk_scholarship_ceiling,
    (Programme.JKM, BenefitKind.DEATH): lambda r: r.jkm_total,
    (Programme.JKM, BenefitKind.LUMP_SUM): lambda r: r.jkm_lump_sum,
    (Programme.JKM, BenefitKind.PERIODIC): lambda r: r.jkm_periodic,
    (Programme.JKM, BenefitKind.FUNERAL): lambda r: r.jkm_funeral,
    (Programme.JKM, BenefitKind.SCHOLARSHIP): lambda r: r.jkm_scholarship_ceiling,
}


# Kinds whose ceiling depends on the period the claim pays for (see `stmb_allowance`).
_PER_PERIOD = frozenset({(Programme.JKK, BenefitKind.STMB)})


def pays(programme: Programme, kind: BenefitKind) -> bool:
    """True when `programme` pays benefits of `kind` (JKM pays no medical care, for instance)."""
    return (programme, kind) in _CEILINGS or (programme, kind) in _PER_PERIOD


def ceiling_for(
    programme: Programme, kind: BenefitKind, rules: BenefitRules, period: tuple[date, date] | None = None
) -> int | None:
    """The most one claim of `kind` under `programme` may pay; None when there is no ceiling.
    STMB needs `period` (first and last day paid for). Raises `BenefitNotPaidError` when the
    programme does not pay that kind."""
    if (programme, kind) in _PER_PERIOD:
        if period is None:
            raise ValueError(f"the {kind} ceiling depends on the period paid for")
        return stmb_allowance(rules, *period)
    ceiling = _CEILINGS.get((programme, kind))
    if ceiling is None:
        raise BenefitNotPaidError(f"{programme} does not pay {kind} benefits")
    return ceiling(rules)


def stmb_allowance(rules: BenefitRules, incident: date, until: date) -> int:
    """The most STMB may pay for inability from `incident` to `until` (both included): a day's
    wage (monthly wage / 30) for each day of the first `stmb_full_months`, `stmb_later_percent`
    of it afterwards; rounded up to the rupiah, so an exact payment is never flagged."""
    if until < incident:
        return 0
    full_until = plus_months(incident, rules.stmb_full_months)  # first day at the lower rate
    after = until + timedelta(days=1)
    full_days = (min(after, full_until) - incident).days
    later_days = max(0, (after - full_until).days)
    hundredths = rules.declared_monthly_wage * (full_days * 100 + later_days * rules.stmb_later_percent)
    return -(-hundredths // 3000)
