"""Appending to many worker streams in a few statements (the batched path of uploads).

`EventStore.append` handles one stream per call: five to seven statements per nomination. An
upload batch appends to hundreds of streams at once, so this writes exactly the rows
`EventStore.append` would — same envelopes, same per-stream hash chain (libs.eventstore.hashing),
same outbox rows (libs.eventstore.store.outbox_row), same optimistic concurrency — but with one
statement per table for the whole batch, and the read-model projection in bulk
(adapters.projections.project_batch, equivalent to projecting each event in order).

It belongs in libs/eventstore as `EventStore.append_batch`; it lives here until it moves there.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope, utcnow
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.eventstore.store import EventStore, outbox_row

BatchProjector = Callable[[AsyncConnection, Sequence[Envelope]], Awaitable[None]]


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream, with the version the caller decided on."""

    aggregate_id: str
    events: Sequence[DomainEvent]
    expected_version: int
    # The command's own ids when the batch joins commands of several origins (inbound messages).
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None


async def _heads(conn: AsyncConnection, store: EventStore, streams: set[str]) -> dict[str, tuple[int, str]]:
    events = store.tables.events
    latest = (
        select(events.c.aggregate_id, func.max(events.c.aggregate_version).label("version"))
        .where(events.c.aggregate_id.in_(sorted(streams)))
        .group_by(events.c.aggregate_id)
        .subquery()
    )
    rows = await conn.execute(
        select(events.c.aggregate_id, events.c.aggregate_version, events.c.hash).join(
            latest,
            (events.c.aggregate_id == latest.c.aggregate_id)
            & (events.c.aggregate_version == latest.c.version),
        )
    )
    return {r.aggregate_id: (r.aggregate_version, r.hash) for r in rows}


async def append_batch(
    conn: AsyncConnection,
    store: EventStore,
    appends: Sequence[StreamAppend],
    *,
    project: BatchProjector,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> list[Envelope]:
    """Append every `appends` item in order (a stream may appear more than once), in the caller's
    transaction; raises ConcurrencyError when a stream is not at the expected version."""
    appends = [a for a in appends if a.events]
    if not appends:
        return []
    heads = await _heads(conn, store, {a.aggregate_id for a in appends})
    event_rows: list[dict[str, Any]] = []
    outbox_rows: list[dict[str, Any]] = []
    envelopes: list[Envelope] = []
    for item in appends:
        version, prev_hash = heads.get(item.aggregate_id, (0, GENESIS_HASH))
        if version != item.expected_version:
            raise ConcurrencyError(item.aggregate_id, item.expected_version, version)
        when = occurred_at or utcnow()
        for event in item.events:
            version += 1
            envelope = Envelope(
                event_type=event.event_type,
                schema_version=event.schema_version,
                occurred_at=when,
                aggregate_id=item.aggregate_id,
                aggregate_version=version,
                correlation_id=item.correlation_id or correlation_id,
                causation_id=item.causation_id or causation_id,
                producer=store.producer,
                payload=event.model_dump(mode="json"),
            )
            digest = chain_hash(prev_hash, envelope)
            event_rows.append(
                {
                    "event_id": envelope.event_id,
                    "aggregate_id": envelope.aggregate_id,
                    "aggregate_version": version,
                    "event_type": envelope.event_type,
                    "schema_version": envelope.schema_version,
                    "occurred_at": envelope.occurred_at,
                    "correlation_id": envelope.correlation_id,
                    "causation_id": envelope.causation_id,
                    "producer": envelope.producer,
                    "payload": envelope.payload,
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            outbox_rows.append(outbox_row(envelope, event.topic, event.partition_key() or item.aggregate_id))
            envelopes.append(envelope)
            prev_hash = digest
        heads[item.aggregate_id] = (version, prev_hash)
    try:
        async with conn.begin_nested():
            await conn.execute(insert(store.tables.events), event_rows)
    except IntegrityError as exc:
        if "events_stream_version_uq" not in str(exc.orig):
            raise
        raise ConcurrencyError("(batch)", None, -1) from exc
    await conn.execute(insert(store.tables.outbox), outbox_rows)
    await project(conn, envelopes)
    return envelopes
