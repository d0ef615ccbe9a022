"""Every event contract Lindung knows, and decoding of envelopes into contracts."""

from __future__ import annotations

import weakref
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


class _Decoded(weakref.ref[Envelope]):
    """An envelope (weakly) and the event it decodes to."""

    __slots__ = ("event", "key")

    key: int
    event: DomainEvent


# The event of each live envelope already decoded, or built from its event (the kit, the store's
# load, the consumer), by the envelope's identity: a projector handed the envelope afterwards gets
# that event back instead of decoding the payload again (about 18 µs an event). An entry goes
# with its envelope, so nothing is kept that is not in use anyway.
_decoded: dict[int, _Decoded] = {}


def _forget(entry: weakref.ref[Envelope]) -> None:
    if isinstance(entry, _Decoded) and _decoded.get(entry.key) is entry:
        del _decoded[entry.key]


def remember(envelope: Envelope, event: DomainEvent) -> None:
    """Note that `envelope` (as it is, personal fields clear) decodes to `event`.

    Only an event of the current contract is kept: one of an older version (a v1 class an
    upcaster reads) decodes to the current contract, which its class is not."""
    if type(event) is not BY_TYPE.get(envelope.event_type):
        return
    entry = _Decoded(envelope, _forget)
    entry.key, entry.event = id(envelope), event
    _decoded[entry.key] = entry


def decode(envelope: Envelope) -> DomainEvent:
    """The envelope's payload as the current version of its contract (upcast when older).

    An envelope decoded before (or built from its event) gives back the same event: events and
    envelopes are immutable, so it is the event decoding would give again."""
    known = _decoded.get(id(envelope))
    if known is not None and known() is envelope:
        return known.event
    event = _decode(envelope)
    remember(envelope, event)
    return event


def _decode(envelope: Envelope) -> DomainEvent:
    contract = contract_for(envelope.event_type)
    if envelope.schema_version > contract.schema_version:
        raise UnsupportedVersion(
            f"{envelope.event_type} v{envelope.schema_version} is newer than v{contract.schema_version}"
        )
    payload = upcast(envelope.event_type, envelope.schema_version, contract.schema_version, envelope.payload)
    return contract.model_validate(payload)
