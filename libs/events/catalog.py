"""Every event contract Lindung knows, and decoding of envelopes into contracts."""

from __future__ import annotations

from functools import cache

# Importing every contract module registers its classes as DomainEvent subclasses.
from libs.events.contracts import allocation, bpjs, claims, enrollment, registry  # noqa: F401
from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope
from libs.events.upcasting import upcast


def _all_contracts(root: type[DomainEvent]) -> list[type[DomainEvent]]:
    found: list[type[DomainEvent]] = []
    for sub in root.__subclasses__():
        found.append(sub)
        found.extend(_all_contracts(sub))
    return found


CONTRACTS: tuple[type[DomainEvent], ...] = tuple(
    sorted(_all_contracts(DomainEvent), key=lambda c: (c.topic, c.event_type))
)
BY_TYPE: dict[str, type[DomainEvent]] = {c.event_type: c for c in CONTRACTS}


@cache
def event_types_on(topic: str) -> frozenset[str]:
    """The event types whose contracts are published on `topic`."""
    return frozenset(c.event_type for c in CONTRACTS if c.topic == topic)


class UnknownEventType(LookupError):
    """The envelope names an event type this build does not know."""


class UnsupportedVersion(ValueError):
    """The envelope's schema version is newer than this build understands."""


def contract_for(event_type: str) -> type[DomainEvent]:
    """The contract class of `event_type`."""
    try:
        return BY_TYPE[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def decode(envelope: Envelope) -> DomainEvent:
    """The envelope's payload as the current version of its contract (upcast when older)."""
    contract = contract_for(envelope.event_type)
    if envelope.schema_version > contract.schema_version:
        raise UnsupportedVersion(
            f"{envelope.event_type} v{envelope.schema_version} is newer than v{contract.schema_version}"
        )
    payload = upcast(envelope.event_type, envelope.schema_version, contract.schema_version, envelope.payload)
    return contract.model_validate(payload)
