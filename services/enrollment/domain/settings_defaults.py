"""The DOMAIN.md defaults, overridden by configuration.

Rule functions never read these: the service's settings layer builds the dataclasses from
configuration and falls back to these values only where configuration is silent.
"""

from __future__ import annotations

from libs.premium_rates import JKK_PER_MONTH, JKM_PER_MONTH
from services.enrollment.domain.billing import PremiumRates
from services.enrollment.domain.bpjs_request import RetryPolicy
from services.enrollment.domain.coverage import CoveragePolicy

# DOMAIN.md "Money": Rp16,800 per worker per month = JKK Rp10,000 (lowest bracket) + JKM Rp6,800.
PREMIUM_RATES_DEFAULTS = PremiumRates(jkk=JKK_PER_MONTH, jkm=JKM_PER_MONTH)

# DOMAIN.md "Money": coverage ends at the end of the last paid month; no grace (verify with BPJS).
# DOMAIN.md "Money" (BPU rules): up to 3 months of arrears restore coverage; a 4th ends membership.
COVERAGE_POLICY_DEFAULTS = CoveragePolicy(grace_months=0, arrears_months=3)

# Not in DOMAIN.md: an engineering default. Five attempts, 1 minute doubling up to 1 hour.
REGISTRATION_RETRY_DEFAULTS = RetryPolicy(max_attempts=5, base_seconds=60, max_seconds=3_600)
