"""The enrollment service's configuration: the domain's policies built from settings, and its clock.

Domain rules never read settings (see domain/settings_defaults.py): this module turns the
LINDUNG_ENROLLMENT_* settings into the policy dataclasses the rules take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from libs.settings import Settings
from services.enrollment.domain.billing import PremiumRates
from services.enrollment.domain.bpjs_request import RequestPolicy, RetryPolicy
from services.enrollment.domain.coverage import CoveragePolicy

# The business calendar: registrations, payments and lapses are dated with it. Tests pass a
# clock they can move; timeouts and backoff always run on real time (`real_now`).
Now = Callable[[], datetime]


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EnrollmentConfig:
    """Everything configurable the enrollment service decides with."""

    retry: RetryPolicy
    coverage: CoveragePolicy
    default_rates: PremiumRates
    answer_timeout: timedelta
    timezone: tzinfo
    bill_max_workers: int
    clock_interval_s: float
    lapse_interval_s: float
    pepper: str

    @property
    def requests(self) -> RequestPolicy:
        """Retries and answer timeout of every request to BPJS."""
        return RequestPolicy(self.retry, self.answer_timeout)

    def local_date(self, instant: datetime) -> date:
        """The calendar day of `instant` where the programme runs (WIB by default)."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self.timezone).date()


def config_from(settings: Settings) -> EnrollmentConfig:
    """The service's configuration from its settings (passed in by the composition root)."""
    if settings.enrollment_bill_max_workers < 1:
        raise ValueError("enrollment_bill_max_workers must be >= 1")
    if settings.enrollment_answer_timeout_s < 1:
        raise ValueError("enrollment_answer_timeout_s must be >= 1")
    return EnrollmentConfig(
        retry=RetryPolicy(
            max_attempts=settings.enrollment_retry_max_attempts,
            base_seconds=settings.enrollment_retry_base_s,
            max_seconds=settings.enrollment_retry_max_s,
        ),
        coverage=CoveragePolicy(
            grace_months=settings.enrollment_grace_months,
            arrears_months=settings.enrollment_arrears_months,
        ),
        default_rates=PremiumRates(jkk=settings.enrollment_premium_jkk, jkm=settings.enrollment_premium_jkm),
        answer_timeout=timedelta(seconds=settings.enrollment_answer_timeout_s),
        timezone=ZoneInfo(settings.enrollment_timezone),
        bill_max_workers=settings.enrollment_bill_max_workers,
        clock_interval_s=settings.enrollment_clock_interval_ms / 1000,
        lapse_interval_s=float(settings.enrollment_lapse_check_interval_s),
        pepper=settings.nik_pepper,
    )
