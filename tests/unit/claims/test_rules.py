"""Claims settings from the environment the entrypoint passes in."""

import pytest

from services.claims.application.rules import benefit_rules
from services.claims.domain.settings_defaults import BENEFIT_RULES_DEFAULTS


def test_defaults_when_the_environment_is_silent() -> None:
    assert benefit_rules({}) == BENEFIT_RULES_DEFAULTS
    assert BENEFIT_RULES_DEFAULTS.jkk_claim_window_years == 2
    assert BENEFIT_RULES_DEFAULTS.jkm_scholarship_min_membership_years == 3


def test_overrides_window_wage_and_ceilings() -> None:
    rules = benefit_rules(
        {
            "LINDUNG_CLAIMS_JKK_CLAIM_WINDOW_YEARS": "5",
            "LINDUNG_CLAIMS_DECLARED_MONTHLY_WAGE": "1_500_000",
            "LINDUNG_CLAIMS_JKK_SCHOLARSHIP_CEILING": "none",
        }
    )
    assert (rules.jkk_claim_window_years, rules.declared_monthly_wage) == (5, 1_500_000)
    assert rules.jkk_scholarship_ceiling is None


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="LINDUNG_CLAIMS_JKK_CLAIM_WINDOW_YEARS"):
        benefit_rules({"LINDUNG_CLAIMS_JKK_CLAIM_WINDOW_YEARS": "two"})
