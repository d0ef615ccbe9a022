"""Wiring of the claims service."""

from __future__ import annotations

from libs.events import topics
from libs.runtime.service import ServiceDefinition
from services.claims.adapters.projections import project, project_consumed
from services.claims.adapters.tables import eventstore
from services.claims.application.handlers import ClaimsHandler
from services.claims.application.rules import benefit_rules
from services.claims.entrypoints.http import router


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="claims",
        title="Lindung claims: the claims ledger, checked against coverage and benefit ceilings",
        tables=eventstore,
        router=router,
        projector=project,
        consumed_projector=project_consumed,
        handler=ClaimsHandler(rules=benefit_rules()),
        consumes=topics.SUBSCRIPTIONS["claims"],
    )
