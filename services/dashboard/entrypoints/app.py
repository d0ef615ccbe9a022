"""Wiring of the dashboard service: its composition root (services/dashboard/bootstrap.py) over
the process's settings."""

from __future__ import annotations

from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.dashboard.bootstrap import bootstrap


def definition() -> ServiceDefinition:
    """The dashboard as the environment configures it."""
    return bootstrap(get_settings())
