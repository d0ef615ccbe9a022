"""Whether a copy of an event kept elsewhere tells the same as the stored event.

`faithful_copy` is the rule, on parsed envelopes; `plainly_faithful` tells the usual cases from
a copy's JSON and the stored row without parsing either (libs/audit/copies.py uses it first and
falls back on the rule)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.events.catalog import decode
from libs.events.envelope import Envelope
from libs.eventstore.store import row_to_envelope
from libs.privacy.envelopes import alike_but_sealing, read_without_keys

_FIELDS = frozenset(Envelope.model_fields)
_UUIDS = ("event_id", "correlation_id", "causation_id")
_PLAIN = ("event_type", "aggregate_id", "aggregate_version", "producer")


def faithful_copy(copy: Envelope, stored: Envelope, *, minimised_ok: bool) -> bool:
    """Whether `copy` (an outbox or inbox copy) tells the same as the stored event; a consumer's
    copy may be minimised (see `_minimised_copy_of`), the outbox's must be whole."""
    if copy.canonical_json() == stored.canonical_json():
        return True
    if not minimised_ok:
        return False
    # A consumer's copy may hold personal fields sealed where the event has them clear, or the
    # reverse (libs/privacy): those fields are not compared without the keys, all others are.
    sealing = (
        copy.schema_version == stored.schema_version
        and copy.model_copy(update={"payload": stored.payload}).canonical_json() == stored.canonical_json()
    )
    if sealing and alike_but_sealing(copy.payload, stored.payload):
        return True
    return _minimised_copy_of(copy, stored)


def _minimised_copy_of(copy: Envelope, stored: Envelope) -> bool:
    """A consumer may keep less than the event (the dashboard drops personal data, at the
    contract's current version): same metadata, and every field it kept equal to the event's."""
    metadata = set(Envelope.model_fields) - {"payload", "schema_version"}
    if any(getattr(copy, name) != getattr(stored, name) for name in metadata):
        return False
    if _contained(copy.payload, stored.payload):
        return True
    return _kept_as_decoded(copy.payload, stored)


def _kept_as_decoded(payload: dict[str, Any], stored: Envelope) -> bool:
    """Every field the copy kept equal to the event's as its current contract reads it."""
    try:
        # (A copy holding no personal data is compared with the event's other fields.)
        current = decode(read_without_keys(stored)).model_dump(mode="json")
    except (ValueError, LookupError):
        return False
    # Fields the contract does not have were derived by the consumer (the dashboard's
    # kecamatan_code): nothing in the event to compare them with.
    kept = {k: v for k, v in payload.items() if k in current}
    return _contained(kept, current)


def _contained(part: Any, whole: Any) -> bool:
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            k in whole and _contained(v, whole[k]) for k, v in part.items()
        )
    if isinstance(part, list):
        return (
            isinstance(whole, list)
            and len(part) == len(whole)
            and all(_contained(p, w) for p, w in zip(part, whole, strict=True))
        )
    return bool(part == whole)


def plainly_faithful(copy: dict[str, Any], stored: Any) -> bool:
    """The usual consumer's copy that is not whole, told from its JSON and the stored row without
    parsing the copy: metadata spelled as the event's, and a payload that is (a) part of the
    stored one, or (b) the stored one with personal fields sealed on one side only, or (c) kept
    fields equal to the event's as its contract reads it (derived ones aside). Each is a case
    `faithful_copy` accepts; False sends the copy its way."""
    if not _same_metadata(copy, stored):
        return False
    payload, whole = copy["payload"], stored.payload
    if not isinstance(whole, dict):
        return False
    if _contained(payload, whole):
        return True
    if copy["schema_version"] == stored.schema_version and payload.keys() == whole.keys():
        differing = [k for k, v in payload.items() if v != whole[k]]
        if alike_but_sealing({k: payload[k] for k in differing}, {k: whole[k] for k in differing}):
            return True
    try:
        envelope = row_to_envelope(stored)
    except ValueError:
        return False
    return _kept_as_decoded(payload, envelope)


def _same_metadata(copy: dict[str, Any], stored: Any) -> bool:
    if copy.keys() != _FIELDS or not isinstance(copy["payload"], dict):
        return False
    version = copy["schema_version"]
    if type(version) is not int or version < 1:
        return False
    for name in _UUIDS:
        value = getattr(stored, name)
        if copy[name] != (None if value is None else str(value)):
            return False
    for name in _PLAIN:
        if type(copy[name]) is not type(getattr(stored, name)) or copy[name] != getattr(stored, name):
            return False
    at = copy["occurred_at"]
    try:
        instant = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        return False
    return instant is not None and instant.utcoffset() is not None and instant == stored.occurred_at
