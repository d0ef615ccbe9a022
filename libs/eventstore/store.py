"""The rows of a service's event store and outbox (what an append writes), and reads of its streams."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.envelope import Envelope
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH, chain_hash_of_text
from libs.eventstore.ports import PendingAppend
from libs.eventstore.tables import EventStoreTables
from libs.privacy.cipher import DataKey
from libs.privacy.envelopes import open_envelopes, sealed_payload
from libs.privacy.vault import KeyVault


def outbox_row(envelope: Envelope, topic: str, key: str | None, value: bytes | None = None) -> dict[str, Any]:
    """The outbox row that publishes `envelope` on `topic`; `value` is the envelope's canonical
    JSON (given when it is already written, so it is serialised once)."""
    return {
        "event_id": envelope.event_id,
        "topic": topic,
        "key": key.encode() if key is not None else None,
        "value": envelope.canonical().encoded() if value is None else value,
        "headers": outbox_headers(envelope),
    }


def outbox_headers(envelope: Envelope) -> list[list[str]]:
    """The headers an event leaves with: consumers filter by `event_type` before parsing."""
    return [
        ["event_type", envelope.event_type],
        ["schema_version", str(envelope.schema_version)],
        ["producer", envelope.producer],
    ]


@lru_cache(maxsize=4096)
def _headers_json(event_type: str, schema_version: int, producer: str) -> str:
    # A handful of (type, version, producer) triples per service: written once each.
    return json.dumps(
        [["event_type", event_type], ["schema_version", str(schema_version)], ["producer", producer]],
        ensure_ascii=False,
    )


def row_to_envelope(row: Any) -> Envelope:
    """An `events` row back as its envelope."""
    return Envelope(
        event_id=row.event_id,
        event_type=row.event_type,
        schema_version=row.schema_version,
        occurred_at=row.occurred_at,
        aggregate_id=row.aggregate_id,
        aggregate_version=row.aggregate_version,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        producer=row.producer,
        payload=row.payload,
    )


def event_row(stored: Envelope, prev_hash: str, digest: str) -> dict[str, Any]:
    """The `events` row of a stored envelope, chained after `prev_hash`."""
    return {
        "event_id": stored.event_id,
        "aggregate_id": stored.aggregate_id,
        "aggregate_version": stored.aggregate_version,
        "event_type": stored.event_type,
        "schema_version": stored.schema_version,
        "occurred_at": stored.occurred_at,
        "correlation_id": stored.correlation_id,
        "causation_id": stored.causation_id,
        "producer": stored.producer,
        "payload": stored.payload,
        "prev_hash": prev_hash,
        "hash": digest,
    }


@dataclass(frozen=True)
class StoredRows:
    """What appending a batch writes: `events` and `outbox` rows, the envelopes as stored (personal
    fields sealed where keys were given) and each stream's head after them. `json_texts` holds
    the jsonb columns already written as text (the payloads' canonical JSON, the headers), by
    append_sql parameter name, so the INSERT does not serialise them again."""

    event_rows: list[dict[str, Any]]
    outbox_rows: list[dict[str, Any]]
    envelopes: list[Envelope]
    heads: dict[str, tuple[int, str]]
    json_texts: dict[str, list[str]] = field(default_factory=dict)


def stored_rows(
    appends: Sequence[PendingAppend],
    heads: Mapping[str, tuple[int, str]],
    keys: Mapping[str, DataKey],
) -> StoredRows:
    """The rows of `appends` (in order; a stream may come back), each stream chained on from its
    head in `heads` (absent: a new stream); with `keys` (the persons' data keys, libs/privacy)
    personal fields are stored and sent encrypted. Raises ConcurrencyError where a stream is not
    at the version its append expects."""
    current = dict(heads)
    event_rows: list[dict[str, Any]] = []
    outbox_rows: list[dict[str, Any]] = []
    envelopes: list[Envelope] = []
    payloads: list[str] = []
    headers: list[str] = []
    for item in appends:
        version, prev_hash = current.get(item.stream_id, (0, GENESIS_HASH))
        if version != item.expected_version:
            raise ConcurrencyError(item.stream_id, item.expected_version, version)
        for recorded in item.recorded:
            event, clear = recorded.event, recorded.envelope
            payload = sealed_payload(event, clear.payload, keys) if keys else clear.payload
            stored = clear if payload is clear.payload else clear.model_copy(update={"payload": payload})
            # Sealed first, then written once: the hash, the stored payload and the value sent
            # are the same canonical text.
            canonical = stored.canonical()
            digest = chain_hash_of_text(prev_hash, canonical.text)
            event_rows.append(event_row(stored, prev_hash, digest))
            key = event.partition_key() or item.stream_id
            outbox_rows.append(outbox_row(stored, event.topic, key, canonical.encoded()))
            payloads.append(canonical.payload)
            headers.append(_headers_json(stored.event_type, stored.schema_version, stored.producer))
            envelopes.append(stored)
            prev_hash = digest
        current[item.stream_id] = (item.expected_version + len(item.recorded), prev_hash)
    return StoredRows(
        event_rows, outbox_rows, envelopes, current, {"e_payload": payloads, "o_headers": headers}
    )


Projector = Callable[[AsyncConnection, Envelope], Awaitable[None]]


async def no_projection(conn: AsyncConnection, envelope: Envelope) -> None:
    """The projector of a service without read models (and the marker audits look for)."""
    return None


class EventStore:
    """Reads of one service schema's event store (the kit's PostgresStore writes it).

    `projector` is the service's read-model projection of one event, which audits replay.
    """

    def __init__(
        self,
        tables: EventStoreTables,
        producer: str,
        projector: Projector = no_projection,
        vault: KeyVault | None = None,
    ) -> None:
        self.tables = tables
        self.producer = producer
        self.projector = projector
        # With a vault, personal fields are stored encrypted per person and opened when loaded
        # (libs/privacy, docs/security.md "Forgetting a person"); without, stored as they are.
        self.vault = vault

    async def opened(self, conn: AsyncConnection, envelopes: list[Envelope]) -> list[Envelope]:
        """`envelopes` with their personal fields clear (FORGOTTEN where the key is gone)."""
        return await open_envelopes(conn, self.vault, envelopes)

    async def head(self, conn: AsyncConnection, aggregate_id: str) -> tuple[int, str]:
        """The stream's current version and last hash ((0, genesis) for a new stream)."""
        events = self.tables.events
        row = (
            await conn.execute(
                select(events.c.aggregate_version, events.c.hash)
                .where(events.c.aggregate_id == aggregate_id)
                .order_by(events.c.aggregate_version.desc())
                .limit(1)
            )
        ).first()
        return (row.aggregate_version, row.hash) if row else (0, GENESIS_HASH)

    async def load(self, conn: AsyncConnection, aggregate_id: str) -> list[Envelope]:
        """Every event of one stream, in version order, personal fields clear."""
        events = self.tables.events
        stream = select(events).where(events.c.aggregate_id == aggregate_id)
        rows = (await conn.execute(stream.order_by(events.c.aggregate_version))).all()
        return await self.opened(conn, [row_to_envelope(r) for r in rows])
