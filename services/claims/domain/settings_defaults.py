"""The DOMAIN.md defaults, overridden by configuration.

Rule functions never read these: the service's settings layer builds `BenefitRules` from
configuration and falls back to these values only where configuration is silent.
"""

from __future__ import annotations

from services.claims.domain.benefits import BenefitRules

BENEFIT_RULES_DEFAULTS = BenefitRules(
    # DOMAIN.md "Benefits": lowest BPU bracket, so JKK death = 48 x Rp1,000,000 = Rp48,000,000
    # (the JKK DEATH bundle adds funeral and periodic: Rp70,000,000).
    declared_monthly_wage=1_000_000,
    jkk_death_multiplier=48,
    # DOMAIN.md gives no figure for these four; values from PP 82/2019 (verify with BPJS):
    # total permanent disability 56 x wage, funeral Rp10,000,000, periodic 24 x Rp500,000.
    jkk_disability_multiplier=56,
    jkk_funeral=10_000_000,
    jkk_periodic=12_000_000,
    # DOMAIN.md: medical care "as needed", so no ceiling.
    jkk_medical_ceiling=None,
    # PP 82/2019 caps scholarships at Rp174,000,000 for two children (verify with BPJS).
    jkk_scholarship_ceiling=174_000_000,
    # DOMAIN.md: JKM Rp42,000,000 = Rp20,000,000 lump sum + Rp12,000,000 periodic + Rp10,000,000
    # funeral.
    jkm_total=42_000_000,
    jkm_lump_sum=20_000_000,
    jkm_periodic=12_000_000,
    jkm_funeral=10_000_000,
    jkm_scholarship_ceiling=174_000_000,
    # DOMAIN.md: STMB 100% of declared wage for the first 12 months, then 50% until recovered.
    stmb_full_months=12,
    stmb_later_percent=50,
    # DOMAIN.md: JKK claims within 2 years of the incident under PP 44/2015 (5 also cited under
    # PP 82/2019); JKM claims have no time limit.
    jkk_claim_window_years=2,
    # DOMAIN.md: JKM scholarships after at least 3 years of membership.
    jkm_scholarship_min_membership_years=3,
)
