from dataclasses import replace
from datetime import date

import pytest

from services.claims.domain.benefits import (
    BenefitKind,
    BenefitNotPaidError,
    Programme,
    ceiling_for,
    pays,
    stmb_allowance,
)
from services.claims.domain.settings_defaults import BENEFIT_RULES_DEFAULTS as RULES

JKK, JKM = Programme.JKK, Programme.JKM
K = BenefitKind


@pytest.mark.parametrize(
    "programme, kind, expected",
    [
        # JKK DEATH is the bundle: 48 x Rp1,000,000 + funeral Rp10,000,000 + periodic Rp12,000,000.
        (JKK, K.DEATH, 70_000_000),
        (JKK, K.DISABILITY, 56_000_000),
        (JKK, K.FUNERAL, 10_000_000),
        (JKK, K.PERIODIC, 12_000_000),
        (JKK, K.MEDICAL, None),
        (JKK, K.SCHOLARSHIP, 174_000_000),
        (JKM, K.DEATH, 42_000_000),
        (JKM, K.LUMP_SUM, 20_000_000),
        (JKM, K.PERIODIC, 12_000_000),
        (JKM, K.FUNERAL, 10_000_000),
        (JKM, K.SCHOLARSHIP, 174_000_000),
    ],
)
def test_default_ceilings(programme: Programme, kind: BenefitKind, expected: int | None) -> None:
    assert ceiling_for(programme, kind, RULES) == expected


@pytest.mark.parametrize("programme, kind", [(JKM, K.MEDICAL), (JKM, K.DISABILITY), (JKK, K.LUMP_SUM)])
def test_kinds_a_programme_does_not_pay(programme: Programme, kind: BenefitKind) -> None:
    assert pays(programme, kind) is False
    with pytest.raises(BenefitNotPaidError):
        ceiling_for(programme, kind, RULES)


def test_jkk_death_follows_the_declared_wage() -> None:
    rules = replace(RULES, declared_monthly_wage=1_500_000)
    assert ceiling_for(JKK, K.DEATH, rules) == 72_000_000 + 10_000_000 + 12_000_000


def test_a_configured_medical_ceiling_applies() -> None:
    rules = replace(RULES, jkk_medical_ceiling=20_000_000)
    assert ceiling_for(JKK, K.MEDICAL, rules) == 20_000_000


def test_jkm_parts_must_add_up_to_the_total() -> None:
    with pytest.raises(ValueError, match="jkm_total"):
        replace(RULES, jkm_lump_sum=25_000_000)


@pytest.mark.parametrize("field", ["jkk_funeral", "declared_monthly_wage", "jkk_medical_ceiling"])
def test_amounts_must_be_whole_non_negative_rupiah(field: str) -> None:
    with pytest.raises(ValueError):
        replace(RULES, **{field: -1})


def test_a_float_amount_is_refused() -> None:
    with pytest.raises(ValueError):
        replace(RULES, declared_monthly_wage=1_000_000.0)  # type: ignore[arg-type]


def test_jkk_pays_stmb_for_a_period_only() -> None:
    assert pays(JKK, K.STMB) and not pays(JKM, K.STMB)
    with pytest.raises(ValueError, match="period"):
        ceiling_for(JKK, K.STMB, RULES)
    one_day = (date(2025, 1, 1), date(2025, 1, 1))
    assert ceiling_for(JKK, K.STMB, RULES, one_day) == 33_334  # Rp1,000,000 / 30, rounded up
    assert stmb_allowance(RULES, date(2025, 1, 2), date(2025, 1, 1)) == 0
    # a day in the second year pays half
    assert stmb_allowance(RULES, date(2025, 1, 1), date(2026, 1, 1)) == -(-(365 * 1_000_000 + 500_000) // 30)


def test_stmb_rates_are_settings() -> None:
    rules = replace(RULES, stmb_full_months=1, stmb_later_percent=0)
    assert stmb_allowance(rules, date(2025, 1, 1), date(2025, 12, 31)) == 1_033_334  # January only
    with pytest.raises(ValueError, match="above 100"):
        replace(RULES, stmb_later_percent=101)
