"""Wiring of the allocation service."""

from __future__ import annotations

import logging

from libs.auth import Authenticator, announcement, protect
from libs.events import topics
from libs.eventstore.store import EventStore
from libs.privacy.vault import vault_of
from libs.runtime.service import ServiceDefinition
from libs.settings import get_settings
from services.allocation.adapters.projections import project
from services.allocation.adapters.tables import eventstore
from services.allocation.application.allocate import Allocator
from services.allocation.application.commands import Commands
from services.allocation.application.handlers import AllocationHandler
from services.allocation.application.programmes import ProgrammeBook
from services.allocation.application.quota_stream import QuotaStates
from services.allocation.entrypoints.http import build_router

log = logging.getLogger("services.allocation")


def definition() -> ServiceDefinition:
    """One allocation instance. Its consumer and its HTTP commands each keep their own quota-state
    cache (read through a store of their own: same tables, no projection); programme facts, which
    never change, are shared."""
    auth = Authenticator.from_settings(get_settings())
    book = ProgrammeBook()
    vault = vault_of(get_settings())  # the quota streams hold sealed identities (libs/privacy)
    consumer_states = QuotaStates(EventStore(eventstore, "allocation", vault=vault))
    commands = Commands(book, vault)
    return ServiceDefinition(
        name="allocation",
        title="Lindung allocation: programmes, quotas, waitlists, decrees",
        tables=eventstore,
        router=protect(build_router(commands), auth),
        projector=project,
        handler=AllocationHandler(Allocator(consumer_states, book)),
        consumes=topics.SUBSCRIPTIONS["allocation"],
        background=[announcement(auth, log)],
    )
