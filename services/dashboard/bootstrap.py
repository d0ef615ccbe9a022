"""The dashboard's composition root: settings, clock, callers' keys and map boundaries in, the
service's definition out. Only this module and entrypoints/app.py see the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from libs.auth import Authenticator
from libs.events import topics
from libs.runtime.service import Runtime, ServiceDefinition
from libs.settings import Settings
from services.dashboard.adapters.geo_data import load_atlas
from services.dashboard.adapters.projections import (
    SqlReadModels,
    project_consumed,
    project_consumed_batch,
)
from services.dashboard.adapters.tables import eventstore
from services.dashboard.application.dashboard import Dashboard
from services.dashboard.application.handlers import DashboardReactor
from services.dashboard.domain.geo import Atlas
from services.dashboard.entrypoints.http import build_router

log = logging.getLogger("services.dashboard")


def _system_clock() -> datetime:
    return datetime.now(UTC)


def bootstrap(
    settings: Settings,
    *,
    now: Callable[[], datetime] = _system_clock,
    auth: Authenticator | None = None,
    atlas: Atlas | None = None,
) -> ServiceDefinition:
    """The dashboard service: a projection of four topics, read by people in a browser."""
    # Read the keys now: a mistake in LINDUNG_API_KEYS stops the start, it never opens the doors.
    auth = auth or Authenticator.from_settings(settings)
    dashboard = Dashboard(
        reactor=DashboardReactor(SqlReadModels()),
        atlas=atlas or load_atlas(),
        now=now,
        poll_seconds=settings.dashboard_poll_seconds,
    )

    async def announce_auth(rt: Runtime) -> None:
        auth.log_mode(log)

    return ServiceDefinition(
        name="dashboard",
        title="Lindung dashboard: monitoring and evaluation of the premium assistance programmes",
        tables=eventstore,
        router=build_router(auth, dashboard),
        consumed_projector=project_consumed,
        consumed_batch_projector=project_consumed_batch,
        handler=dashboard.reactor,
        consumes=topics.SUBSCRIPTIONS["dashboard"],
        background=[announce_auth],
        application=dashboard,
    )
