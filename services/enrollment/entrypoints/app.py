"""Wiring of the enrollment service: its settings and business calendar, handed to bootstrap."""

from __future__ import annotations

from libs.clock import business_clock
from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.enrollment.application.config import Now
from services.enrollment.bootstrap import bootstrap


def definition(now: Now | None = None) -> ServiceDefinition:
    """The enrollment service. `now` is its business calendar (billing day, lapses); tests pass a
    clock they can move, timeouts and retries always run on real time. Unset: the business clock
    of the settings (libs/clock.py)."""
    settings = get_settings()
    return bootstrap(settings, now=now or business_clock(settings.business_clock_file))
