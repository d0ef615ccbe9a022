"""The registry's business day: the day a programme's end is judged by (libs/clock.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from libs.clock import business_clock
from libs.settings import Settings

Today = Callable[[], date]


def business_today(settings: Settings) -> Today:
    """Today by the business clock the settings name (a simulated calendar, or the system's),
    as a calendar day in the programme's zone: the zone enrollment dates coverage in (WIB)."""
    now = business_clock(settings.business_clock_file)
    zone = ZoneInfo(settings.enrollment_timezone)
    return lambda: now().astimezone(zone).date()
