"""Wiring of the registry service."""

from __future__ import annotations

import logging

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.runtime.service import Runtime, ServiceDefinition
from libs.settings import get_settings
from services.registry.adapters.projections import project, project_consumed
from services.registry.adapters.tables import eventstore
from services.registry.application.handlers import RegistryHandler
from services.registry.application.reference import revalidate
from services.registry.entrypoints.http import router

log = logging.getLogger(__name__)


async def resume_revalidation(rt: Runtime) -> None:
    """Finish a re-validation an import started but a stop interrupted (nothing to do, usually)."""
    try:
        summary = await revalidate(
            rt.engine,
            rt.store,
            pepper=rt.settings.nik_pepper,
            nik_regency_must_match=rt.settings.nik_regency_must_match,
            trigger="resumed-at-start",
        )
    except Exception:
        log.exception("re-validation at start failed; the next reference import retries it")
        return
    if summary.revalidated:
        log.info("re-validated %s nominations left over from the last import", summary.revalidated)
        rt.relay.wake()


def definition() -> ServiceDefinition:
    # Read the keys now: a mistake in LINDUNG_API_KEYS stops the start, it never opens the doors.
    auth = Authenticator.from_settings(get_settings())
    return ServiceDefinition(
        name="registry",
        title="Lindung registry: nominations and validation",
        tables=eventstore,
        router=protect(router, auth),
        projector=project,
        consumed_projector=project_consumed,
        handler=RegistryHandler(),
        consumes=topics.SUBSCRIPTIONS["registry"],
        background=[announcement(auth, log), resume_revalidation],
    )
