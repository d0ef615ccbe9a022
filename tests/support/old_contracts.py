"""Contracts as older builds wrote them, for tests that store an old version and read it back
through today's upcasters (the classes live outside `libs/events`: no service writes them)."""

from __future__ import annotations

from libs.events import topics
from libs.events.contracts.base import DomainEvent


class WithdrawnV1(DomainEvent):
    """NominationWithdrawn as stored before v2: nobody recorded who withdrew."""

    event_type = "NominationWithdrawn"
    schema_version = 1
    topic = topics.REGISTRY

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reason: str
    note: str = ""
