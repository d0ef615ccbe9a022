"""The BPJS simulator's composition root: settings, its calendar, the wall clock and its behaviour
in, the service's definition out (a peer system on the bus, built on the same runtime)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.runtime.service import ServiceDefinition
from libs.settings import Settings
from services.bpjs_simulator.adapters.book import sql_insurer_book
from services.bpjs_simulator.adapters.control import sql_control_book
from services.bpjs_simulator.adapters.tables import eventstore
from services.bpjs_simulator.application.control import Simulator
from services.bpjs_simulator.application.handlers import InsurerHandler
from services.bpjs_simulator.application.release import OutageState, real_now
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from services.bpjs_simulator.entrypoints.background import outage_loop, release_loop
from services.bpjs_simulator.entrypoints.http import control_router, router

log = logging.getLogger("services.bpjs_simulator")

Clock = Callable[[], datetime]


def behaviour_from(settings: Settings) -> InsurerBehaviour:
    """The simulator's behaviour from the LINDUNG_BPJS_* settings."""
    return InsurerBehaviour(
        seed=settings.bpjs_seed,
        nik_not_found_per_million=settings.bpjs_nik_not_found_per_million,
        age_min=settings.bpjs_age_min,
        age_max=settings.bpjs_age_max,
        transient_error_per_million=settings.bpjs_transient_error_per_million,
        min_delay_ms=settings.bpjs_min_delay_ms,
        max_delay_ms=settings.bpjs_max_delay_ms,
        duplicate_per_million=settings.bpjs_duplicate_per_million,
        late_per_million=settings.bpjs_late_per_million,
        late_delay_ms=settings.bpjs_late_delay_ms,
        premium_jkk=settings.bpjs_premium_jkk,
        premium_jkm=settings.bpjs_premium_jkm,
        arrears_months=settings.bpjs_arrears_months,
    )


def bootstrap(
    settings: Settings,
    *,
    now: Clock,
    behaviour: InsurerBehaviour | None = None,
    real_clock: Clock = real_now,
) -> ServiceDefinition:
    """The simulator under `settings`. `now` is its calendar (registration and payment
    instants); `real_clock` times delays and outages; `behaviour` its seeded chaos (the
    settings' when None)."""
    auth = Authenticator.from_settings(settings)
    outage = OutageState()
    handler = InsurerHandler(
        behaviour or behaviour_from(settings),
        sql_insurer_book,
        now=now,
        real_now=real_clock,
        # An answer due at once goes out with the batch, unless an outage is in force: then it is
        # held, and sent when the outage ends.
        answering=lambda: not outage.active(real_clock()),
    )
    simulator = Simulator(handler, sql_insurer_book, sql_control_book, outage)
    return ServiceDefinition(
        name="bpjs_simulator",
        title="BPJS Ketenagakerjaan simulator",
        tables=eventstore,
        router=protect(routes(settings), auth),
        handler=handler,
        consumes=topics.SUBSCRIPTIONS["bpjs_simulator"],
        background=[announcement(auth, log), release_loop, outage_loop],
        application=simulator,
    )


def routes(settings: Settings) -> APIRouter:
    """What the simulator answers: its control panel only in development mode (outside it the
    /control routes do not exist: 404)."""
    served = APIRouter()
    served.include_router(router)
    if settings.dev_mode:
        served.include_router(control_router)
    return served
