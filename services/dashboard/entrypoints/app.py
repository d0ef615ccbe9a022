"""Wiring of the dashboard service: a projection of four topics, read by people in a browser."""

from __future__ import annotations

import logging

from libs.auth import Authenticator
from libs.events import topics
from libs.runtime.service import Runtime, ServiceDefinition
from libs.settings import get_settings
from services.dashboard.adapters.projections import project_consumed
from services.dashboard.adapters.tables import eventstore
from services.dashboard.application.handlers import DashboardHandler
from services.dashboard.entrypoints.http import build_router

log = logging.getLogger("services.dashboard")


def definition() -> ServiceDefinition:
    settings = get_settings()
    # Read the keys now: a mistake in LINDUNG_API_KEYS stops the start, it never opens the doors.
    auth = Authenticator.from_settings(settings)

    async def announce_auth(rt: Runtime) -> None:
        auth.log_mode(log)

    return ServiceDefinition(
        name="dashboard",
        title="Lindung dashboard: monitoring and evaluation of the premium assistance programmes",
        tables=eventstore,
        router=build_router(auth, settings.dashboard_poll_seconds),
        consumed_projector=project_consumed,
        handler=DashboardHandler(),
        consumes=topics.SUBSCRIPTIONS["dashboard"],
        background=[announce_auth],
    )
