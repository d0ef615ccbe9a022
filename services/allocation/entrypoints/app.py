"""Wiring of the allocation service: its definition, as the composition root builds it from the
process's settings."""

from __future__ import annotations

from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.allocation.bootstrap import bootstrap


def definition() -> ServiceDefinition:
    """One allocation instance (services/allocation/bootstrap.py)."""
    return bootstrap(get_settings())
