"""Wiring of the registry service: its settings, handed to its composition root (bootstrap.py)."""

from __future__ import annotations

from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.registry.bootstrap import bootstrap


def definition() -> ServiceDefinition:
    """The registry as configured (LINDUNG_* settings; the business calendar they name)."""
    # Read the keys now: a mistake in LINDUNG_API_KEYS stops the start, it never opens the doors.
    return bootstrap(get_settings())
