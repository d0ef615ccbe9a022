"""Allocation's composition root: settings and clock in, the service's definition out (its
admin commands as the application object, its consumer's reactor, projection and routes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.events.envelope import utcnow
from libs.runtime.service import ServiceDefinition
from libs.settings import Settings
from services.allocation.adapters.batch_projection import project_batch
from services.allocation.adapters.lookups import SqlReadModels
from services.allocation.adapters.projections import project
from services.allocation.adapters.stream_cache import ProgrammeStates
from services.allocation.adapters.tables import eventstore
from services.allocation.application.allocate import Allocator
from services.allocation.application.commands import Commands
from services.allocation.application.handlers import AllocationHandler
from services.allocation.application.ports import ReadModels, StreamCache
from services.allocation.domain.programme_commands import programme_decider
from services.allocation.entrypoints.http import build_router

log = logging.getLogger("services.allocation")


def build_allocation(
    *, states: StreamCache, read_models: ReadModels, now: Callable[[], datetime] = utcnow
) -> tuple[Commands, AllocationHandler]:
    """The admin's commands and the consumer's reactor over one decider: `states` keeps loaded
    programme states, `read_models` reach other programmes' holds, `now` stamps decisions."""
    decider = programme_decider()
    commands = Commands(Allocator(decider, states, read_models, clock=now))
    reactor = AllocationHandler(Allocator(decider, states, read_models, clock=now))
    return commands, reactor


def bootstrap(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> ServiceDefinition:
    """One allocation instance. Its consumer and its HTTP commands share one cache of programme
    states (kept states are never changed, adapters/stream_cache.py), at most
    `settings.allocation_programme_states` of them."""
    auth = Authenticator.from_settings(settings)
    states = ProgrammeStates(programme_decider(), capacity=settings.allocation_programme_states)
    commands, reactor = build_allocation(states=states, read_models=SqlReadModels(), now=now)
    return ServiceDefinition(
        name="allocation",
        title="Lindung allocation: programmes, quotas, waitlists, decrees",
        tables=eventstore,
        router=protect(build_router(), auth),
        projector=project,
        batch_projector=project_batch,
        handler=reactor,
        consumes=topics.SUBSCRIPTIONS["allocation"],
        background=[announcement(auth, log)],
        application=commands,
    )
