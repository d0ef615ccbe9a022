"""Wiring of the enrollment service."""

from __future__ import annotations

from libs.events import topics
from libs.runtime.service import ServiceDefinition
from services.enrollment.adapters.projections import project
from services.enrollment.adapters.tables import eventstore
from services.enrollment.application.handlers import EnrollmentHandler
from services.enrollment.entrypoints.http import router


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="enrollment",
        title="Lindung enrollment: registrations at BPJS, coverage and premiums",
        tables=eventstore,
        router=router,
        projector=project,
        handler=EnrollmentHandler(),
        consumes=topics.SUBSCRIPTIONS["enrollment"],
    )
