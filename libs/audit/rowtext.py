"""The canonical text of a stored event row or of a copy of it, without validating a pydantic
Envelope per row: `Envelope.canonical` (libs/events/envelope.py, the text the chain hash of
libs/eventstore/hashing.py is computed over) run on the columns as read.

Only a fast path: a row whose text hashes to its stored hash was hashed over exactly these
columns, whoever wrote it; a row or copy that does not match at once is checked again the
reference way by the caller (libs/audit/chain.py, copies.py), so the fast path can cost time but
never hide a break.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from annotated_types import MaxLen, MinLen

from libs.events.envelope import Envelope

_FIELDS = frozenset(Envelope.model_fields)


def _length_bounds(name: str) -> tuple[int, int]:
    """The envelope's own length limits of a text field (so the fast path never drifts from them)."""
    low, high = 0, 1 << 62
    for rule in Envelope.model_fields[name].metadata:
        if isinstance(rule, MinLen):
            low = rule.min_length
        elif isinstance(rule, MaxLen):
            high = rule.max_length
    return low, high


_AGGREGATE_ID = _length_bounds("aggregate_id")
_PRODUCER = _length_bounds("producer")


def row_text(row: Any) -> str:
    """The canonical text of an `events` row (UUID, timestamptz and JSONB columns as the driver
    reads them): `row_to_envelope(row).canonical_json()`, by the envelope's own `canonical` run
    on the row, whose columns bear the envelope's field names (no model is built)."""
    return _canonical(row)


def _canonical(fields: Any) -> str:
    # Envelope.canonical reads only the envelope's fields by name: any object that has them
    # (a row, a namespace) is written the same way, without validating or constructing a model.
    return Envelope.canonical(cast(Envelope, fields)).text


def plausible_row(row: Any) -> bool:
    """Whether the row's columns are within the envelope's limits (the database's column types
    cover the rest); an implausible row goes the reference way, which names it unreadable."""
    low, high = _AGGREGATE_ID
    if not low <= len(row.aggregate_id) <= high:
        return False
    low, high = _PRODUCER
    return (
        low <= len(row.producer) <= high
        and row.schema_version >= 1
        and row.aggregate_version >= 1
        and isinstance(row.payload, dict)
        and row.occurred_at.utcoffset() is not None
    )


def text_digest(text: str) -> bytes:
    """A short fingerprint of a canonical text, to compare copies with the stored event."""
    return hashlib.sha256(text.encode()).digest()


def copy_text(copy: Any) -> str | None:
    """The canonical text of a copy's JSON object (an outbox message, an inbox envelope), or None
    when it is not one this fast path reads: not every envelope field and no other, or a time
    without its zone (then the caller parses it the reference way)."""
    if not isinstance(copy, dict) or copy.keys() != _FIELDS:
        return None
    at = copy["occurred_at"]
    if not isinstance(at, str):
        return None
    try:
        instant = datetime.fromisoformat(at)
    except ValueError:
        return None
    if instant.utcoffset() is None:
        return None
    return _canonical(SimpleNamespace(**{**copy, "occurred_at": instant}))


def copy_json(raw: bytes) -> Any:
    """The JSON of an outbox message, or None when the bytes are not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None
