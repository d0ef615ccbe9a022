"""Wiring of the allocation service."""

from __future__ import annotations

from libs.events import topics
from libs.eventstore.store import EventStore
from libs.runtime.service import ServiceDefinition
from services.allocation.adapters.projections import project
from services.allocation.adapters.tables import eventstore
from services.allocation.application.handlers import AllocationHandler
from services.allocation.application.quota_stream import QuotaStates
from services.allocation.entrypoints.http import router


def definition() -> ServiceDefinition:
    # The handler's cache reads streams through a store of its own (same tables, no projection).
    states = QuotaStates(EventStore(eventstore, "allocation"))
    return ServiceDefinition(
        name="allocation",
        title="Lindung allocation: programmes, quotas, waitlists, decrees",
        tables=eventstore,
        router=router,
        projector=project,
        handler=AllocationHandler(states),
        consumes=topics.SUBSCRIPTIONS["allocation"],
    )
