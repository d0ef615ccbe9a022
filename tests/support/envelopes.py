"""The one envelope builder of the tests: an event (or a bare payload) as a producer sends it."""

from __future__ import annotations

import uuid
from typing import Any

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope


def envelope_of(
    event: DomainEvent | None, producer: str, aggregate_id: str, *, version: int = 1, **fields: Any
) -> Envelope:
    """`event` in an envelope from `producer` on stream `aggregate_id` (at `version`), with a new
    event id and correlation id. `fields` set any other field of the envelope (event_id,
    occurred_at, correlation_id, schema_version...). With `event` None, `fields` give event_type
    and payload: a message no contract describes (an unknown type, a date that does not exist)."""
    described: dict[str, Any] = {"schema_version": 1}
    if event is not None:
        described = {
            "event_type": event.event_type,
            "schema_version": event.schema_version,
            "payload": event.model_dump(mode="json"),
        }
    return Envelope(
        **{
            **described,
            "aggregate_id": aggregate_id,
            "aggregate_version": version,
            "correlation_id": uuid.uuid4(),
            "producer": producer,
            **fields,
        }
    )
