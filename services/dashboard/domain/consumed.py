"""A consumed envelope read as the dashboard reads it: its counting fact, and the minimised copy
the inbox keeps instead of the personal data."""

from __future__ import annotations

from libs.events import Envelope, contract_for
from libs.events.upcasting import upcast
from services.dashboard.domain import facts as f


def fact_of(envelope: Envelope) -> f.Fact | None:
    """The counting fact of `envelope`, or None for a type the dashboard does not consume."""
    if envelope.event_type not in f.FACTS:
        return None
    current = contract_for(envelope.event_type).schema_version
    payload = envelope.payload
    if envelope.schema_version < current:
        payload = upcast(envelope.event_type, envelope.schema_version, current, payload)
    return f.fact_of(envelope.event_type, payload)


def consumed_fact(envelope: Envelope) -> f.Fact:
    """The counting fact of `envelope`; refuses a type the dashboard does not consume."""
    fact = fact_of(envelope)
    if fact is None:
        raise LookupError(f"the dashboard does not consume {envelope.event_type}")
    return fact


def minimised(envelope: Envelope) -> tuple[f.Fact, Envelope]:
    """The fact of `envelope`, and `envelope` with its payload reduced to that fact at the
    contract's current version: what the dashboard's inbox keeps instead of the personal data."""
    fact = consumed_fact(envelope)
    reduced = envelope.model_copy(
        update={
            "payload": f.minimised(fact),
            "schema_version": contract_for(envelope.event_type).schema_version,
        }
    )
    return fact, reduced


def metadata_only(envelope: Envelope) -> Envelope:
    """`envelope` without any payload: what the inbox keeps of an event whose fact is unreadable."""
    return envelope.model_copy(update={"payload": {}})
