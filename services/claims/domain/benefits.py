"""Benefit ceilings of JKK and JKM, used to flag claims paid above what the rules allow.

Which programme pays which kind follows PP 44/2015 as amended by PP 82/2019: JKK (work accident)
pays medical care, disability, death, funeral, periodic and scholarship benefits; JKM (death not
from work) pays a lump sum, periodic and funeral benefits (DEATH: the three at once) and
scholarships. A kind the programme does not pay has no ceiling at all: see `pays`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum


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


@dataclass(frozen=True, slots=True)
class BenefitRules:
    """Benefit amounts in whole rupiah. Configuration, never hard-coded. A ceiling of None means
    "as needed": claims of that kind are never flagged for their amount."""

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

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name.endswith("_ceiling"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{field.name} must be a whole, non-negative rupiah amount")
        # JKM DEATH is the three parts paid at once; a total that disagrees is a typo in config.
        parts = self.jkm_lump_sum + self.jkm_periodic + self.jkm_funeral
        if parts != self.jkm_total:
            raise ValueError(f"jkm_total {self.jkm_total} != lump sum + periodic + funeral {parts}")


class BenefitNotPaidError(ValueError):
    """The programme does not pay this kind of benefit."""


_CEILINGS: Mapping[tuple[Programme, BenefitKind], Callable[[BenefitRules], int | None]] = {
    (Programme.JKK, BenefitKind.DEATH): lambda r: r.jkk_death_multiplier * r.declared_monthly_wage,
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


def pays(programme: Programme, kind: BenefitKind) -> bool:
    """True when `programme` pays benefits of `kind` (JKM pays no medical care, for instance)."""
    return (programme, kind) in _CEILINGS


def ceiling_for(programme: Programme, kind: BenefitKind, rules: BenefitRules) -> int | None:
    """The most one claim of `kind` under `programme` may pay; None when there is no ceiling.
    Raises `BenefitNotPaidError` when the programme does not pay that kind."""
    ceiling = _CEILINGS.get((programme, kind))
    if ceiling is None:
        raise BenefitNotPaidError(f"{programme} does not pay {kind} benefits")
    return ceiling(rules)
