"""Wiring of the claims service: its settings and the benefit rules of the environment, handed
to its composition root (bootstrap.py)."""

from __future__ import annotations

import os

from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.claims.application.rules import benefit_rules
from services.claims.bootstrap import bootstrap


def definition() -> ServiceDefinition:
    """The claims service as configured (LINDUNG_* settings, LINDUNG_CLAIMS_* benefit rules)."""
    return bootstrap(get_settings(), rules=benefit_rules(os.environ))
