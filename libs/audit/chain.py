"""Verifying the hash chains of every event store, and the copies of events kept elsewhere.

Per stream (rows ordered by `aggregate_version`), each row must satisfy:

- its version is the previous one + 1, starting at 1 (a gap means a deleted row);
- `prev_hash` is the previous row's `hash` (the genesis hash, 64 zeros, for version 1);
- `hash` equals `chain_hash(prev_hash, envelope)` recomputed from the stored columns (an edited
  column, or a forged row, breaks it).

The chain alone cannot see the *last* events of a stream deleted together (nothing follows them),
nor a stream rewritten from some version on with freshly computed hashes. Two copies of every
published event exist outside the `events` table and are checked against it:

- the service's own outbox row (the published bytes) for each event id;
- the inbox rows of the services that consumed it (another schema, another table). A consumer
  may keep a minimised copy (the dashboard drops personal data): such a copy must carry the same
  metadata, and each field it kept must equal the event's (as stored, or upcast to the current
  version); what it dropped, it cannot vouch for.

A copy that differs from the stored event, or names an event the store no longer has, is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.audit.breaks import BreakKind, ChainBreak, VerifyReport
from libs.audit.copies import Digests, check_inboxes, check_outbox, chunks, store_tables
from libs.audit.faithful import faithful_copy
from libs.audit.progress import NO_PROGRESS, Progress
from libs.audit.rowtext import plausible_row, row_text, text_digest
from libs.eventstore.hashing import GENESIS_HASH, chain_hash, chain_hash_of_text
from libs.eventstore.store import row_to_envelope

# Names callers import from here (the report's shapes, the copy rule).
__all__ = [
    "BreakKind",
    "ChainBreak",
    "VerifyReport",
    "check_row",
    "count_rows",
    "event_store_schemas",
    "faithful_copy",
    "verify_chains",
]


def check_row(schema: str, row: Any, previous: Any | None) -> list[ChainBreak]:
    """Breaks at `row`, given the stream's previous stored row (None at the stream's start)."""
    found: list[ChainBreak] = []
    stream, version = row.aggregate_id, row.aggregate_version

    def brk(kind: BreakKind, detail: str) -> None:
        found.append(ChainBreak(schema, stream, version, kind, detail, row.position))

    expected_version = previous.aggregate_version + 1 if previous is not None else 1
    if version != expected_version:
        missing = list(range(expected_version, version))
        brk("missing_versions", f"versions {missing} are absent" if missing else "version repeated")
    expected_prev = previous.hash if previous is not None else GENESIS_HASH
    if previous is not None and version == expected_version and row.prev_hash != expected_prev:
        brk("broken_link", "prev_hash is not the previous version's hash")
    elif previous is None and version == 1 and row.prev_hash != GENESIS_HASH:
        brk("broken_link", "version 1 does not start from the genesis hash")
    try:
        recomputed = chain_hash(row.prev_hash, row_to_envelope(row))
    except ValueError as exc:
        brk("unreadable", f"the row is not a valid envelope: {type(exc).__name__}")
        return found
    if recomputed != row.hash:
        brk("hash_mismatch", "the stored columns do not hash to the stored hash: edited")
    return found


async def event_store_schemas(conn: AsyncConnection) -> list[str]:
    """Schemas holding a Lindung event store (an `events` table with `prev_hash` and `hash`)."""
    rows = await conn.execute(
        text(
            "SELECT table_schema FROM information_schema.columns WHERE table_name = 'events' "
            "AND column_name IN ('prev_hash', 'hash') GROUP BY table_schema HAVING count(*) = 2 "
            "ORDER BY table_schema"
        )
    )
    return [r.table_schema for r in rows]


def _intact(row: Any, previous: Any | None, text: str) -> bool:
    """The fast verdict on a row: in sequence, linked, within the envelope's limits, and its
    canonical text hashes to its stored hash. False sends it to `check_row`, which names why."""
    if previous is None:
        return row.aggregate_version == 1 and row.prev_hash == GENESIS_HASH and _hashes(row, text)
    return (
        row.aggregate_version == previous.aggregate_version + 1
        and row.prev_hash == previous.hash
        and _hashes(row, text)
    )


def _hashes(row: Any, text: str) -> bool:
    return plausible_row(row) and chain_hash_of_text(row.prev_hash, text) == row.hash


async def walk_chains(
    conn: AsyncConnection, schema: str, report: VerifyReport, progress: Progress = NO_PROGRESS
) -> dict[str, bytes]:
    """Check every stream of `schema` in (stream, version) order, from one server-side cursor;
    returns the fingerprint of each event's canonical text by event id (for its copies)."""
    events = store_tables(schema).events
    query = select(events).order_by(events.c.aggregate_id, events.c.aggregate_version)
    digests: dict[str, bytes] = {}
    previous: Any | None = None
    streams = count = 0
    async for rows in chunks(conn, query):
        for row in rows:
            if previous is not None and previous.aggregate_id != row.aggregate_id:
                previous = None
            if previous is None:
                streams += 1
            try:
                canonical = row_text(row)
            except (TypeError, ValueError, AttributeError):
                canonical = ""  # not even spelled: the reference way names it
            if not (canonical and _intact(row, previous, canonical)):
                report.breaks += check_row(schema, row, previous)
            if row.producer == schema:  # (a copy of any other is read the reference way)
                digests[str(row.event_id)] = text_digest(canonical)
            previous = row
        count += len(rows)
        progress.advance(len(rows))
    report.streams[schema], report.events[schema] = streams, count
    return digests


async def count_rows(conn: AsyncConnection, schemas: Sequence[str]) -> int:
    """Events, outbox rows and inbox copies to check (the size of the progress bar)."""
    total = 0
    for schema in schemas:
        store = store_tables(schema)
        others = [s for s in schemas if s != schema]
        total += int((await conn.execute(select(func.count()).select_from(store.events))).scalar_one())
        total += int((await conn.execute(select(func.count()).select_from(store.outbox))).scalar_one())
        inbox = select(func.count()).select_from(store.inbox)
        inbox = inbox.where(store.inbox.c.envelope["producer"].astext.in_(others))
        total += int((await conn.execute(inbox)).scalar_one())
    return total


async def verify_chains(
    conn: AsyncConnection, schemas: Sequence[str] | None = None, progress: Progress = NO_PROGRESS
) -> VerifyReport:
    """Walk every stream of every schema, then check the outbox and inbox copies."""
    chosen = list(schemas) if schemas is not None else await event_store_schemas(conn)
    report = VerifyReport()
    progress.start("verifying hash chains", await count_rows(conn, chosen))
    digests: Digests = {schema: await walk_chains(conn, schema, report, progress) for schema in chosen}
    for schema in chosen:
        report.copies[schema] = await check_outbox(conn, schema, digests, report, progress)
    for consumer in chosen:
        report.copies[consumer] += await check_inboxes(conn, consumer, chosen, report, progress)
    progress.finish()
    return report
