"""Benefit rules from configuration: each BenefitRules field may be overridden by an environment
variable `LINDUNG_CLAIMS_<FIELD>` (e.g. LINDUNG_CLAIMS_DECLARED_MONTHLY_WAGE=1500000,
LINDUNG_CLAIMS_JKK_CLAIM_WINDOW_YEARS=5; "none" for no ceiling); where configuration is silent,
the DOMAIN.md defaults apply. The entrypoint passes the environment in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from services.claims.domain.benefits import BenefitRules
from services.claims.domain.settings_defaults import BENEFIT_RULES_DEFAULTS

ENV_PREFIX = "LINDUNG_CLAIMS_"


def benefit_rules(env: Mapping[str, str]) -> BenefitRules:
    """The benefit rules in force: defaults overridden by `env` (validated)."""
    overrides: dict[str, Any] = {}
    for field in fields(BenefitRules):
        raw = env.get(ENV_PREFIX + field.name.upper())
        if raw is None or not raw.strip():
            continue
        value = raw.strip().replace("_", "")
        if value.lower() == "none" and field.name.endswith("_ceiling"):
            overrides[field.name] = None
            continue
        try:
            overrides[field.name] = int(value)
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{field.name.upper()} must be a whole number, got {raw!r}") from exc
    return replace(BENEFIT_RULES_DEFAULTS, **overrides) if overrides else BENEFIT_RULES_DEFAULTS
