"""Wiring of the registry service."""

from __future__ import annotations

import logging

from fastapi.exceptions import RequestValidationError

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.runtime.service import Runtime, ServiceDefinition
from libs.settings import get_settings
from services.registry.adapters.projections import project, project_consumed
from services.registry.adapters.tables import eventstore
from services.registry.application.handlers import RegistryHandler
from services.registry.application.reference import revalidate
from services.registry.entrypoints.calendar import business_today
from services.registry.entrypoints.http import request_invalid, router

log = logging.getLogger(__name__)


async def resume_revalidation(rt: Runtime) -> None:
    """Finish a re-validation an import started but a stop interrupted (nothing to do, usually)."""
    try:
        summary = await revalidate(
            rt.engine,
            rt.store,
            pepper=rt.settings.nik_pepper,
            trigger="resumed-at-start",
            today=business_today(rt.settings)(),
        )
    except Exception:
        log.exception("re-validation at start failed; the next reference import retries it")
        return
    if summary.revalidated:
        log.info("re-validated %s nominations left over from the last import", summary.revalidated)
        rt.relay.wake()


def definition() -> ServiceDefinition:
    # Read the keys now: a mistake in LINDUNG_API_KEYS stops the start, it never opens the doors.
    settings = get_settings()
    auth = Authenticator.from_settings(settings)
    return ServiceDefinition(
        name="registry",
        title="Lindung registry: nominations and validation",
        tables=eventstore,
        router=protect(router, auth),
        projector=project,
        consumed_projector=project_consumed,
        handler=RegistryHandler(today=business_today(settings)),
        consumes=topics.SUBSCRIPTIONS["registry"],
        background=[announcement(auth, log), resume_revalidation],
        exception_handlers={RequestValidationError: request_invalid},
    )
