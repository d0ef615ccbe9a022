"""Wiring of the registry service."""

from __future__ import annotations

from libs.events import topics
from libs.runtime.service import ServiceDefinition
from services.registry.adapters.projections import project, project_consumed
from services.registry.adapters.tables import eventstore
from services.registry.application.handlers import RegistryHandler
from services.registry.entrypoints.http import router


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="registry",
        title="Lindung registry: nominations and validation",
        tables=eventstore,
        router=router,
        projector=project,
        consumed_projector=project_consumed,
        handler=RegistryHandler(),
        consumes=topics.SUBSCRIPTIONS["registry"],
    )
