"""Appending to many streams in one round trip: the batched path of consumers and uploads.

`EventStore.append` handles one stream per call. A consumer batch or an upload appends to
hundreds of streams at once, so `append_batch` writes exactly the rows `EventStore.append` would
(same envelopes, same per-stream hash chain, same outbox rows, same optimistic concurrency) with
one head query and one INSERT statement for the whole batch (libs.eventstore.append_sql), and the
read-model projection in bulk (a `BatchProjector`, equivalent to projecting each event in order).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope, utcnow
from libs.eventstore.append_sql import append_parameters, append_statement
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH
from libs.eventstore.store import EventStore, chained_rows

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
    # The hash at `expected_version` when the caller read the stream in this transaction: the
    # stream is left out of the head query (as with EventStore.append's `expected_hash`).
    expected_hash: str | None = None


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
    transaction; raises ConcurrencyError when a stream is not at the expected version (the
    transaction is then aborted: callers retry it whole, as with EventStore.append)."""
    appends = [a for a in appends if a.events]
    if not appends:
        return []
    known = {a.aggregate_id: (a.expected_version, a.expected_hash) for a in reversed(appends)}
    unread = [stream for stream, (_, digest) in known.items() if digest is None]
    heads = await store.heads(conn, unread) if unread else {}
    for stream, (version, digest) in known.items():
        if digest is not None:
            heads[stream] = (version, digest)
    event_rows: list[dict[str, Any]] = []
    outbox_rows: list[dict[str, Any]] = []
    when = occurred_at or utcnow()
    clear: list[Envelope] = []
    payloads = {id(e): e.model_dump(mode="json") for a in appends for e in a.events}
    every = [e for a in appends for e in a.events]
    keys = await store.sealing_keys(conn, every, [payloads[id(e)] for e in every])
    for item in appends:
        version, prev_hash = heads.get(item.aggregate_id, (0, GENESIS_HASH))
        if version != item.expected_version:
            raise ConcurrencyError(item.aggregate_id, item.expected_version, version)
        written = chained_rows(
            store.producer,
            item.aggregate_id,
            item.events,
            version=version,
            prev_hash=prev_hash,
            occurred_at=when,
            correlation_id=item.correlation_id or correlation_id,
            causation_id=item.causation_id or causation_id,
            payloads=[payloads[id(e)] for e in item.events],
            keys=keys,
        )
        clear += written.clear
        event_rows += written.event_rows
        outbox_rows += written.outbox_rows
        heads[item.aggregate_id] = (written.version, written.last_hash)
    try:
        await conn.execute(append_statement(store.tables), append_parameters(event_rows, outbox_rows))
    except IntegrityError as exc:
        if "events_stream_version_uq" not in str(exc.orig):
            raise
        raise ConcurrencyError("(batch)", None, -1) from exc
    await project(conn, clear)
    return clear
