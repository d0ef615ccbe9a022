"""Wiring of the enrollment service."""

from __future__ import annotations

import logging

from libs.auth import Authenticator, announcement, protect
from libs.clock import business_clock
from libs.events import topics
from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.enrollment.adapters.projections import project, project_consumed
from services.enrollment.adapters.tables import eventstore
from services.enrollment.application.clock import deadlines_loop, lapses_loop
from services.enrollment.application.config import Now, config_from
from services.enrollment.application.handlers import EnrollmentHandler
from services.enrollment.entrypoints.http import router

log = logging.getLogger("services.enrollment")


def definition(now: Now | None = None) -> ServiceDefinition:
    """The enrollment service. `now` is its business calendar (billing day, lapses); tests pass a
    clock they can move, timeouts and retries always run on real time. Unset: the business clock
    of the settings (libs/clock.py)."""
    settings = get_settings()
    now = now or business_clock(settings.business_clock_file)
    auth = Authenticator.from_settings(settings)
    return ServiceDefinition(
        name="enrollment",
        title="Lindung enrollment: registrations at BPJS, coverage and premiums",
        tables=eventstore,
        router=protect(router, auth),
        projector=project,
        consumed_projector=project_consumed,
        handler=EnrollmentHandler(config_from(settings), now=now),
        consumes=topics.SUBSCRIPTIONS["enrollment"],
        background=[announcement(auth, log), deadlines_loop, lapses_loop],
    )
