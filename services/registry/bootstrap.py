"""The registry's composition root: settings, pepper, clocks and ports in, the service's
definition out (its handlers as one application object, its projections and routes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from fastapi.exceptions import RequestValidationError

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.events.envelope import utcnow
from libs.runtime.service import Runtime, ServiceDefinition
from libs.settings import Settings
from services.registry.adapters.consumed_projections import (
    project_consumed,
    project_consumed_batch,
    project_consumed_in,
)
from services.registry.adapters.lookups import sql_lookups
from services.registry.adapters.projections import project, project_batch
from services.registry.adapters.tables import eventstore
from services.registry.adapters.upload import ZipLimits
from services.registry.application.changes import Changes
from services.registry.application.forget import Forgetting
from services.registry.application.handlers import ProjectConsumed, RegistryReactor
from services.registry.application.inbound import Inbound
from services.registry.application.nominate import (
    NOMINATION_CLOCK,
    UPLOAD_BATCH,
    NominationClock,
    Nominations,
)
from services.registry.application.ports import LookupsOf
from services.registry.application.reference import Reference
from services.registry.application.service import Registry, UploadPolicy
from services.registry.entrypoints.calendar import business_today
from services.registry.entrypoints.http import router
from services.registry.entrypoints.schemas import request_invalid

log = logging.getLogger("services.registry")
DEFAULT_UPLOAD = UploadPolicy(
    max_rows=50_000, zip_limits=ZipLimits(200 * 1024 * 1024, 250), batch=UPLOAD_BATCH
)


def build_registry(
    *,
    pepper: str,
    today: Callable[[], date],
    lookups: LookupsOf,
    project_consumed: ProjectConsumed,
    upload: UploadPolicy = DEFAULT_UPLOAD,
    now: Callable[[], datetime] = utcnow,
    clock: NominationClock = NOMINATION_CLOCK,
) -> Registry:
    """The registry's handlers: `pepper` turns NIKs into worker ids, `today` is the business
    calendar's day (a programme's end), `now` the instant of imports, `clock` the nomination
    instants; `lookups` and `project_consumed` reach the read models."""
    nominations = Nominations(pepper, today, lookups, clock)
    changes = Changes(pepper, today, lookups)
    inbound = Inbound(nominations, changes)
    return Registry(
        nominations=nominations,
        changes=changes,
        inbound=inbound,
        reference=Reference(pepper, today, lookups, now),
        forgetting=Forgetting(pepper, lookups),
        reactor=RegistryReactor(inbound, project_consumed, pepper=pepper),
        upload=upload,
    )


def bootstrap(
    settings: Settings, *, today: Callable[[], date] | None = None, now: Callable[[], datetime] = utcnow
) -> ServiceDefinition:
    """The registry under `settings`; `today` is the business calendar's day (the settings'
    business clock when None), `now` the clock of reference imports."""
    auth = Authenticator.from_settings(settings)
    upload = UploadPolicy(
        max_rows=settings.registry_upload_max_rows,
        zip_limits=ZipLimits(settings.upload_max_uncompressed_bytes, settings.upload_max_compression_ratio),
        batch=settings.registry_upload_batch_size,
    )
    registry = build_registry(
        pepper=settings.nik_pepper,
        today=today or business_today(settings),
        lookups=sql_lookups,
        project_consumed=project_consumed_in,
        upload=upload,
        now=now,
    )

    async def resume_revalidation(rt: Runtime) -> None:
        """Finish a re-validation an import started but a stop interrupted (nothing to do, usually)."""
        assert rt.kit is not None
        try:
            summary = await registry.reference.revalidate(rt.kit, trigger="resumed-at-start")
        except Exception:
            log.exception("re-validation at start failed; the next reference import retries it")
            return
        if summary.revalidated:
            log.info("re-validated %s nominations left over from the last import", summary.revalidated)

    return ServiceDefinition(
        name="registry",
        title="Lindung registry: nominations and validation",
        tables=eventstore,
        router=protect(router, auth),
        projector=project,
        batch_projector=project_batch,
        consumed_projector=project_consumed,
        consumed_batch_projector=project_consumed_batch,
        handler=registry.reactor,
        consumes=topics.SUBSCRIPTIONS["registry"],
        background=[announcement(auth, log), resume_revalidation],
        exception_handlers={RequestValidationError: request_invalid},
        application=registry,
    )
