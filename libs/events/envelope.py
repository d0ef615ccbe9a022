"""The one envelope every Lindung event travels in, on the bus and in the event store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python


def utcnow() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return datetime.now(UTC)


class Envelope(BaseModel):
    """Metadata around one domain event.

    `aggregate_id` + `aggregate_version` place the event in its stream (optimistic concurrency);
    `correlation_id` follows one business flow across services, `causation_id` names the event
    that directly caused this one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    schema_version: int = Field(ge=1)
    occurred_at: datetime = Field(default_factory=utcnow)
    aggregate_id: str = Field(min_length=1, max_length=200)
    aggregate_version: int = Field(ge=1)
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    producer: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        """Serialized form used on the bus (UTF-8 JSON)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse and validate bytes from the bus; raises pydantic.ValidationError or ValueError.

        On the bus `event_id` and `occurred_at` must be written, not defaulted: an id made up at
        each read would let a re-sent message be applied twice (the inbox knows messages by id),
        and a time without a zone would be ordered by whatever zone the reader assumed."""
        envelope = cls.model_validate_json(raw)
        missing = sorted({"event_id", "occurred_at"} - envelope.model_fields_set)
        if missing:
            raise ValueError(f"the envelope has no {' and no '.join(missing)}: the sender must write it")
        if envelope.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at has no time zone (write e.g. 2026-02-02T10:00:00+07:00)")
        return envelope

    def canonical_json(self) -> str:
        """Deterministic text of the whole envelope: sorted keys, no spaces, UTC timestamps.

        The event store's hash chain is computed over this text, so an auditor can recompute
        it with any JSON library.
        """
        return self.canonical().text

    def canonical(self) -> CanonicalText:
        """The canonical JSON of the envelope and of its payload, each serialised once.

        The same text is hashed, stored (the payload) and sent (the whole envelope); it equals
        `json.dumps(model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
        ensure_ascii=False)` with `occurred_at` in UTC, byte for byte (the chain of stores
        written before stays valid)."""
        payload = json.dumps(
            self.payload,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=to_jsonable_python,  # a date, a UUID, a Decimal: as model_dump(mode="json")
        )
        # The envelope's own fields are strings (escaped as json.dumps escapes them), ints, UUIDs
        # and a UTC time: written in sorted key order around the payload's text, not dumped again.
        causation = "null" if self.causation_id is None else f'"{self.causation_id}"'
        text = (
            f'{{"aggregate_id":{_string(self.aggregate_id)},"aggregate_version":{self.aggregate_version:d},'
            f'"causation_id":{causation},"correlation_id":"{self.correlation_id}",'
            f'"event_id":"{self.event_id}","event_type":{_string(self.event_type)},'
            f'"occurred_at":"{self.occurred_at.astimezone(UTC).isoformat()}","payload":{payload},'
            f'"producer":{_string(self.producer)},"schema_version":{self.schema_version:d}}}'
        )
        return CanonicalText(text, payload)


@dataclass(frozen=True, slots=True)
class CanonicalText:
    """An envelope's canonical JSON (`text`: hashed, and sent on the bus) and its payload's
    (`payload`: the stored jsonb), the latter written once, inside the former."""

    text: str
    payload: str

    def encoded(self) -> bytes:
        """The envelope's canonical JSON as the bus carries it (UTF-8)."""
        return self.text.encode()


# json.dumps's own escaping of a string with ensure_ascii=False (its C version where built).
_string: Callable[[str], str] = encode_basestring
