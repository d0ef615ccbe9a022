"""Wiring of the BPJS simulator: its settings and calendar, handed to its composition root
(bootstrap.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from libs.clock import business_clock
from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.bpjs_simulator.bootstrap import behaviour_from, bootstrap

__all__ = ["behaviour_from", "definition"]


def definition(now: Callable[[], datetime] | None = None) -> ServiceDefinition:
    """The simulator. `now` is its calendar (registration and payment instants); tests pass a
    clock they can move, delays and outages always run on real time. Unset: the business clock
    of the settings (libs/clock.py)."""
    settings = get_settings()
    return bootstrap(settings, now=now or business_clock(settings.business_clock_file))
