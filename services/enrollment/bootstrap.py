"""The enrollment service's composition root: settings, the business calendar, real time, the
policies and the read port are bound here, once; everything below receives them."""

from __future__ import annotations

import logging
import random

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.runtime.service import Runtime, ServiceDefinition
from libs.settings import Settings
from services.enrollment.adapters.consumed_projections import project_consumed
from services.enrollment.adapters.projections import project, project_batch
from services.enrollment.adapters.reads import sql_reads
from services.enrollment.adapters.tables import eventstore
from services.enrollment.application.clock import deadlines_loop
from services.enrollment.application.config import Now, config_from, real_now
from services.enrollment.application.context import EnrollmentApp
from services.enrollment.application.handlers import EnrollmentReactor
from services.enrollment.application.lapses import lapses_loop
from services.enrollment.entrypoints.http import router

log = logging.getLogger("services.enrollment")


def bootstrap(
    settings: Settings, *, now: Now, timer: Now = real_now, rng: random.Random | None = None
) -> ServiceDefinition:
    """The enrollment service. `now` is its business calendar (billing day, lapses, releases);
    `timer` the real time timeouts and retries run on; `rng` draws the retries' jitter."""
    app = EnrollmentApp(config_from(settings), sql_reads, now=now, real_now=timer, rng=rng or random.Random())
    auth = Authenticator.from_settings(settings)

    async def deadlines(rt: Runtime) -> None:
        assert rt.kit is not None
        await deadlines_loop(app, rt.kit)

    async def lapses(rt: Runtime) -> None:
        assert rt.kit is not None
        await lapses_loop(app, rt.kit)

    return ServiceDefinition(
        name="enrollment",
        title="Lindung enrollment: registrations at BPJS, coverage and premiums",
        tables=eventstore,
        router=protect(router, auth),
        projector=project,
        batch_projector=project_batch,
        consumed_projector=project_consumed,
        handler=EnrollmentReactor(app),
        consumes=topics.SUBSCRIPTIONS["enrollment"],
        background=[announcement(auth, log), deadlines, lapses],
        application=app,
    )
