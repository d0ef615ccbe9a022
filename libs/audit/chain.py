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

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import MetaData, Select, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.audit.progress import NO_PROGRESS, Progress
from libs.events.catalog import decode
from libs.events.envelope import Envelope
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.eventstore.store import row_to_envelope
from libs.eventstore.tables import EventStoreTables, eventstore_tables
from libs.privacy.envelopes import alike_but_sealing, read_without_keys

BreakKind = Literal[
    "hash_mismatch",
    "broken_link",
    "missing_versions",
    "outbox_copy_differs",
    "outbox_event_missing",
    "consumer_copy_differs",
    "consumer_event_missing",
    "unreadable",
]
PAGE = 5_000


@dataclass(frozen=True)
class ChainBreak:
    """One piece of evidence that a store was changed outside the application."""

    schema: str
    stream: str
    version: int | None
    kind: BreakKind
    detail: str
    position: int | None = None

    def describe(self) -> str:
        where = f"{self.schema} stream {self.stream!r}"
        if self.version is not None:
            where += f" version {self.version}"
        return f"{where}: {self.kind.replace('_', ' ')} ({self.detail})"


@dataclass
class VerifyReport:
    """Streams and events checked per schema, and every break found."""

    streams: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    copies: dict[str, int] = field(default_factory=dict)
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


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


def _store(schema: str) -> EventStoreTables:
    return eventstore_tables(MetaData(), schema)


async def _stream_rows(conn: AsyncConnection, schema: str) -> AsyncIterator[Any]:
    """Every event row of `schema` in (stream, version) order, by keyset pages."""
    events = _store(schema).events
    last: tuple[str, int] | None = None
    while True:
        query = select(events)
        if last is not None:
            query = query.where(tuple_(events.c.aggregate_id, events.c.aggregate_version) > tuple_(*last))
        rows = (
            await conn.execute(query.order_by(events.c.aggregate_id, events.c.aggregate_version).limit(PAGE))
        ).all()
        if not rows:
            return
        for row in rows:
            yield row
        last = (rows[-1].aggregate_id, rows[-1].aggregate_version)


async def count_rows(conn: AsyncConnection, schemas: Sequence[str]) -> int:
    """Events, outbox rows and inbox copies to check (the size of the progress bar)."""
    total = 0
    for schema in schemas:
        store = _store(schema)
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
    for schema in chosen:
        previous: Any | None = None
        streams = events = 0
        async for row in _stream_rows(conn, schema):
            if previous is not None and previous.aggregate_id != row.aggregate_id:
                previous = None
            if previous is None:
                streams += 1
            report.breaks += check_row(schema, row, previous)
            previous = row
            events += 1
            progress.advance()
        report.streams[schema], report.events[schema] = streams, events
    for schema in chosen:
        report.copies[schema] = await _check_outbox(conn, schema, report, progress)
    for consumer in chosen:
        report.copies[consumer] += await _check_inboxes(conn, consumer, chosen, report, progress)
    progress.finish()
    return report


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
    try:
        # (A copy holding no personal data is compared with the event's other fields.)
        current = decode(read_without_keys(stored)).model_dump(mode="json")
    except (ValueError, LookupError):
        return False
    # Fields the contract does not have were derived by the consumer (the dashboard's
    # kecamatan_code): nothing in the event to compare them with.
    kept = {k: v for k, v in copy.payload.items() if k in current}
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


async def _copies(conn: AsyncConnection, query: Select[Any], key: Any) -> AsyncIterator[Any]:
    last = -1
    while True:
        rows = (await conn.execute(query.where(key > last).order_by(key).limit(PAGE))).all()
        if not rows:
            return
        for row in rows:
            yield row
        last = rows[-1].copy_id


async def _check_outbox(conn: AsyncConnection, schema: str, report: VerifyReport, progress: Progress) -> int:
    store = _store(schema)
    outbox, events = store.outbox, store.events
    query = select(outbox.c.id.label("copy_id"), outbox.c.value.label("copy"), *events.c).select_from(
        outbox.outerjoin(events, events.c.event_id == outbox.c.event_id)
    )
    checked = 0
    async for row in _copies(conn, query, outbox.c.id):
        progress.advance()
        try:
            copy = Envelope.from_bytes(row.copy)
        except ValueError:
            continue  # a dead-letter message: the bytes of someone else's record, not our event
        if copy.producer != schema:
            continue
        checked += 1
        _compare_copy(report, schema, copy, row, "outbox")
    return checked


async def _check_inboxes(
    conn: AsyncConnection, consumer: str, producers: Iterable[str], report: VerifyReport, progress: Progress
) -> int:
    inbox = _store(consumer).inbox
    checked = 0
    for producer in producers:
        if producer == consumer:
            continue
        events = _store(producer).events
        query = (
            select(inbox.c.position.label("copy_id"), inbox.c.envelope.label("copy"), *events.c)
            .select_from(inbox.outerjoin(events, events.c.event_id == inbox.c.event_id))
            .where(inbox.c.envelope["producer"].astext == producer)
        )
        async for row in _copies(conn, query, inbox.c.position):
            checked += 1
            progress.advance()
            copy = Envelope.model_validate(row.copy)
            _compare_copy(report, producer, copy, row, f"inbox of {consumer}")
    return checked


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
