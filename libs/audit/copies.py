"""The copies of every event kept outside its store, checked against it (see libs/audit/chain.py).

- the producer's own outbox row (the published bytes) for each event id;
- the inbox rows of the services that consumed it. A consumer may keep a minimised copy (the
  dashboard drops personal data): such a copy must carry the same metadata, and each field it
  kept must equal the event's (as stored, or upcast to the current version).

In bulk, from server-side cursors in large chunks: an outbox message is compared with the stored
event by the fingerprint of its canonical text, which the chain walk kept (`digests`, by event
id); an inbox copy is compared with its event in PostgreSQL, and only a copy that is not whole
comes back. Copies that do not match at once (a minimised or sealed copy, a dead letter, an
edited copy) are told by `plainly_faithful`, then the reference way (`faithful_copy` against the
stored row), with the stored rows of a chunk fetched in one query.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, MetaData, Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.audit.breaks import ChainBreak, VerifyReport
from libs.audit.faithful import faithful_copy, plainly_faithful
from libs.audit.progress import Progress
from libs.audit.rowtext import copy_json, copy_text, text_digest
from libs.audit.session import quoted
from libs.events.envelope import Envelope
from libs.eventstore.store import row_to_envelope
from libs.eventstore.tables import EventStoreTables, eventstore_tables

CHUNK = 5_000
# Digests of stored events' canonical texts, by event id (text), per schema.
Digests = Mapping[str, Mapping[str, bytes]]


def store_tables(schema: str) -> EventStoreTables:
    """The event-store tables of `schema`, declared on a metadata of their own."""
    return eventstore_tables(MetaData(), schema)


async def chunks(
    conn: AsyncConnection, query: Executable, size: int = CHUNK
) -> AsyncIterator[Sequence[Row[Any]]]:
    """The rows of `query` in chunks of `size`, from a server-side cursor (one query, no pages)."""
    result = await conn.stream(query.execution_options(yield_per=size))
    async for part in result.partitions(size):
        yield part


def matches_digest(copy: Any, digests: Mapping[str, bytes]) -> bool:
    """Whether a copy's canonical text is the stored event's, by the walk's fingerprint."""
    canonical = copy_text(copy)
    if canonical is None:
        return False
    found = digests.get(copy["event_id"])
    return found is not None and found == text_digest(canonical)


async def _stored(
    conn: AsyncConnection, schema: str, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID | None, Any]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    events = store_tables(schema).events
    rows = await conn.execute(events.select().where(events.c.event_id.in_(wanted)))
    return {row.event_id: row for row in rows}


class _Missing:
    event_id = None


async def check_outbox(
    conn: AsyncConnection, schema: str, digests: Digests, report: VerifyReport, progress: Progress
) -> int:
    """Compare each outbox message of `schema` that is one of its events with the stored event."""
    outbox = store_tables(schema).outbox
    query = outbox.select().with_only_columns(outbox.c.event_id, outbox.c.value).order_by(outbox.c.id)
    own = digests.get(schema, {})
    checked = 0
    async for rows in chunks(conn, query):
        slow: list[tuple[uuid.UUID | None, Envelope]] = []
        for row in rows:
            # The relay sends the event's canonical text (serialised once): equal bytes, same event.
            if row.event_id is not None and own.get(str(row.event_id)) == hashlib.sha256(row.value).digest():
                checked += 1
                continue
            data = copy_json(row.value)
            if isinstance(data, dict) and data.get("producer") == schema and matches_digest(data, own):
                checked += 1
                continue
            try:
                copy = Envelope.from_bytes(row.value)
            except ValueError:
                continue  # a dead-letter message: the bytes of someone else's record, not our event
            if copy.producer == schema:
                slow.append((row.event_id, copy))
        progress.advance(len(rows))
        stored = await _stored(conn, schema, (event_id for event_id, _ in slow if event_id is not None))
        for event_id, copy in slow:
            checked += 1
            _compare_copy(report, schema, copy, stored.get(event_id, _Missing), "outbox")
    return checked


# Whole copies told in PostgreSQL, without sending them: every envelope field and no other, each
# spelled as the stored event's (numbers and the payload by their jsonb text, which is stricter
# than the canonical text: a copy it does not call whole is read in Python).
_WHOLE = f"""
e.event_id IS NOT NULL
AND (SELECT count(*) FROM jsonb_object_keys(i.envelope)) = {len(Envelope.model_fields)}
AND i.envelope->'event_id' = to_jsonb(e.event_id::text)
AND i.envelope->'correlation_id' = to_jsonb(e.correlation_id::text)
AND i.envelope->'causation_id' = coalesce(to_jsonb(e.causation_id::text), 'null'::jsonb)
AND i.envelope->'event_type' = to_jsonb(e.event_type)
AND i.envelope->'aggregate_id' = to_jsonb(e.aggregate_id)
AND i.envelope->'producer' = to_jsonb(e.producer)
AND (i.envelope->'aggregate_version')::text = e.aggregate_version::text
AND (i.envelope->'schema_version')::text = e.schema_version::text
AND i.envelope->>'occurred_at' IN (u.at || 'Z', u.at || '+00:00')
AND (i.envelope->'payload')::text = e.payload::text
"""
_UTC = """
to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
|| CASE WHEN date_part('microseconds', e.occurred_at)::bigint % 1000000 = 0 THEN ''
   ELSE to_char(e.occurred_at AT TIME ZONE 'UTC', '.US') END
"""


async def check_inboxes(
    conn: AsyncConnection, consumer: str, producers: Iterable[str], report: VerifyReport, progress: Progress
) -> int:
    """Compare each envelope the inbox of `consumer` kept from another schema with its event:
    whole copies in PostgreSQL, the others (minimised, sealed, edited) here."""
    checked = 0
    for producer in producers:
        if producer == consumer:
            continue
        query = text(
            f"SELECT i.event_id, w.whole, CASE WHEN w.whole THEN NULL ELSE i.envelope END AS envelope "
            f"FROM {quoted(consumer, 'inbox')} i LEFT JOIN {quoted(producer, 'events')} e "
            f"ON e.event_id = i.event_id LEFT JOIN LATERAL (SELECT {_UTC} AS at) u ON true "
            f"CROSS JOIN LATERAL (SELECT ({_WHOLE}) IS TRUE AS whole) w "
            "WHERE i.envelope->>'producer' = :producer ORDER BY i.position"
        ).bindparams(producer=producer)
        async for rows in chunks(conn, query):
            checked += len(rows)
            progress.advance(len(rows))
            slow = [(row.event_id, row.envelope) for row in rows if not row.whole]
            if slow:
                await _check_slowly(conn, consumer, producer, slow, report)
    return checked


async def _check_slowly(
    conn: AsyncConnection,
    consumer: str,
    producer: str,
    copies: Sequence[tuple[uuid.UUID, Any]],
    report: VerifyReport,
) -> None:
    """The inbox copies of a chunk that are not whole: minimised ones told plainly, the rest the
    reference way; in inbox order, so breaks are named as the copies come."""
    stored = await _stored(conn, producer, (event_id for event_id, _ in copies))
    for event_id, data in copies:
        row = stored.get(event_id)
        if row is not None and isinstance(data, dict) and plainly_faithful(data, row):
            continue
        copy = Envelope.model_validate(data)
        _compare_copy(report, producer, copy, row if row is not None else _Missing, f"inbox of {consumer}")


def _compare_copy(report: VerifyReport, schema: str, copy: Envelope, row: Any, where: str) -> None:
    outbox = where == "outbox"
    if row.event_id is None:
        report.breaks.append(
            ChainBreak(
                schema,
                copy.aggregate_id,
                copy.aggregate_version,
                "outbox_event_missing" if outbox else "consumer_event_missing",
                f"the {where} holds event {copy.event_id} ({copy.event_type}); the store does not: deleted",
            )
        )
    elif not faithful_copy(copy, row_to_envelope(row), minimised_ok=not outbox):
        report.breaks.append(
            ChainBreak(
                schema,
                row.aggregate_id,
                row.aggregate_version,
                "outbox_copy_differs" if outbox else "consumer_copy_differs",
                f"event {copy.event_id} in the {where} differs from the stored row: edited",
                row.position,
            )
        )
