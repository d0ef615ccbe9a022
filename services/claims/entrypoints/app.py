"""Wiring of the claims service."""

from __future__ import annotations

import logging
import os

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.claims.adapters.projections import project, project_consumed
from services.claims.adapters.tables import eventstore
from services.claims.application.handlers import ClaimsHandler
from services.claims.application.rules import benefit_rules
from services.claims.entrypoints.http import router

log = logging.getLogger("services.claims")


def definition() -> ServiceDefinition:
    auth = Authenticator.from_settings(get_settings())
    return ServiceDefinition(
        name="claims",
        title="Lindung claims: the claims ledger, checked against coverage and benefit ceilings",
        tables=eventstore,
        router=protect(router, auth),
        projector=project,
        consumed_projector=project_consumed,
        handler=ClaimsHandler(rules=benefit_rules(os.environ)),
        consumes=topics.SUBSCRIPTIONS["claims"],
        background=[announcement(auth, log)],
    )
