"""Wiring of the BPJS simulator: a peer system on the bus, built on the same runtime."""

from __future__ import annotations

from libs.events import topics
from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.bpjs_simulator.adapters.tables import eventstore
from services.bpjs_simulator.application.handlers import InsurerHandler
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from services.bpjs_simulator.entrypoints.http import router


def definition() -> ServiceDefinition:
    settings = get_settings()
    behaviour = InsurerBehaviour(
        seed=settings.bpjs_seed,
        nik_not_found_per_million=settings.bpjs_nik_not_found_per_million,
        age_min=settings.bpjs_age_min,
        age_max=settings.bpjs_age_max,
    )
    return ServiceDefinition(
        name="bpjs_simulator",
        title="BPJS Ketenagakerjaan simulator",
        tables=eventstore,
        router=router,
        handler=InsurerHandler(behaviour),
        consumes=topics.SUBSCRIPTIONS["bpjs_simulator"],
    )
