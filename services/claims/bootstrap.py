"""The claims service's composition root: settings, pepper and benefit rules in, the service's
definition out (its handler, projections and routes)."""

from __future__ import annotations

import logging

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.runtime.service import ServiceDefinition
from libs.settings import Settings
from services.claims.adapters.book import sql_claims_book
from services.claims.adapters.projections import project, project_consumed, project_consumed_batch
from services.claims.adapters.tables import eventstore
from services.claims.application.handlers import ClaimsHandler
from services.claims.domain.benefits import BenefitRules
from services.claims.domain.settings_defaults import BENEFIT_RULES_DEFAULTS
from services.claims.entrypoints.http import router

log = logging.getLogger("services.claims")


def bootstrap(
    settings: Settings, *, rules: BenefitRules = BENEFIT_RULES_DEFAULTS, pepper: str | None = None
) -> ServiceDefinition:
    """The claims service under `settings`, judging claims by `rules`; `pepper` turns a claim's
    NIK into its worker id (the settings' when None)."""
    auth = Authenticator.from_settings(settings)
    handler = ClaimsHandler(rules, settings.nik_pepper if pepper is None else pepper, book_of=sql_claims_book)
    return ServiceDefinition(
        name="claims",
        title="Lindung claims: the claims ledger, checked against coverage and benefit ceilings",
        tables=eventstore,
        router=protect(router, auth),
        projector=project,
        consumed_projector=project_consumed,
        consumed_batch_projector=project_consumed_batch,
        handler=handler,
        consumes=topics.SUBSCRIPTIONS["claims"],
        background=[announcement(auth, log)],
        application=handler,
    )
