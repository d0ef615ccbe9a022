"""The event store in PostgreSQL: the kit's store (ports.py) on one service's schema.

Loads many streams in one query; appends every stream of a batch, events and outbox rows, in
one statement (append_sql.py), personal fields sealed per person with one key-vault query
(libs/privacy); projects the batch in the same transaction (the read models never disagree with
the log). A stream written by another transaction since it was read is refused by the unique
(aggregate_id, aggregate_version) constraint: ConcurrencyError, and the transaction is aborted.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.catalog import decode
from libs.events.envelope import Envelope
from libs.eventstore.append_sql import append_parameters, append_statement
from libs.eventstore.decider import Recorded
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.ports import DeadLetter, InboxEntry, LoadedStream, OutboxMessage, PendingAppend
from libs.eventstore.store import row_to_envelope, stored_rows
from libs.eventstore.tables import EventStoreTables
from libs.privacy.cipher import DataKey
from libs.privacy.envelopes import open_envelopes, subjects_to_seal
from libs.privacy.vault import KeyVault
from libs.sql_arrays import any_of, insert_rows

# The read-model projection of a service: every envelope appended in a transaction, in order.
BatchProjector = Callable[[AsyncConnection, Sequence[Envelope]], Awaitable[None]]


async def no_batch_projection(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    return None


class PostgresStore:
    """One service's event store, outbox, inbox and dead letters in its PostgreSQL schema."""

    def __init__(
        self,
        engine: AsyncEngine,
        tables: EventStoreTables,
        producer: str,
        *,
        project: BatchProjector = no_batch_projection,
        vault: KeyVault | None = None,
    ) -> None:
        self.engine = engine
        self.tables = tables
        self._producer = producer
        self.project = project
        self.vault = vault

    @property
    def producer(self) -> str:
        return self._producer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        async with self.engine.begin() as conn:
            yield PostgresTransaction(self, conn)

    async def opened(self, envelopes: list[Envelope]) -> list[Envelope]:
        if self.vault is None:
            return envelopes
        async with self.engine.connect() as conn:
            return await open_envelopes(conn, self.vault, envelopes)


class PostgresTransaction:
    """One transaction of a PostgresStore; `conn` is there for the service's own read models."""

    def __init__(self, store: PostgresStore, conn: AsyncConnection) -> None:
        self.store = store
        self.conn = conn

    @property
    def producer(self) -> str:
        return self.store.producer

    async def load(self, stream_ids: Sequence[str]) -> dict[str, LoadedStream]:
        events = self.store.tables.events
        unique = sorted(set(stream_ids))
        found: dict[str, LoadedStream] = {s: LoadedStream() for s in stream_ids}
        if not unique:
            return found
        rows = (
            await self.conn.execute(
                select(events)
                .where(any_of(events.c.aggregate_id, unique))
                .order_by(events.c.aggregate_id, events.c.aggregate_version)
            )
        ).all()
        opened = await open_envelopes(self.conn, self.store.vault, [row_to_envelope(r) for r in rows])
        by_stream: dict[str, list[Recorded]] = {}
        heads: dict[str, tuple[int, str]] = {}
        for row, envelope in zip(rows, opened, strict=True):
            by_stream.setdefault(row.aggregate_id, []).append(Recorded(decode(envelope), envelope))
            heads[row.aggregate_id] = (row.aggregate_version, row.hash)
        for stream_id, recorded in by_stream.items():
            version, last_hash = heads[stream_id]
            found[stream_id] = LoadedStream(recorded, version, last_hash)
        return found

    async def heads(self, stream_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        events = self.store.tables.events
        rows = await self.conn.execute(
            select(events.c.aggregate_id, events.c.aggregate_version, events.c.hash)
            .where(any_of(events.c.aggregate_id, sorted(set(stream_ids))))
            .order_by(events.c.aggregate_id, events.c.aggregate_version.desc())
            .ext(distinct_on(events.c.aggregate_id))
        )
        return {r.aggregate_id: (r.aggregate_version, r.hash) for r in rows}

    async def _sealing_keys(self, recorded: Sequence[Recorded]) -> dict[str, DataKey]:
        vault = self.store.vault
        if vault is None:
            return {}
        subjects = subjects_to_seal([r.event for r in recorded], [r.envelope.payload for r in recorded])
        return await vault.keys_for_writing(self.conn, subjects) if subjects else {}

    async def append(self, appends: Sequence[PendingAppend]) -> list[Recorded]:
        appends = [a for a in appends if a.recorded]
        if not appends:
            return []
        # The head of each stream: as loaded in this transaction where the caller says so (no
        # query), else read; a stream's later appends in the batch continue its chain.
        heads: dict[str, tuple[int, str]] = {}
        for item in appends:
            if item.expected_hash is not None:
                heads.setdefault(item.stream_id, (item.expected_version, item.expected_hash))
        unread = [s for s in dict.fromkeys(a.stream_id for a in appends) if s not in heads]
        if unread:
            heads.update(await self.heads(unread))
        every = [r for a in appends for r in a.recorded]
        rows = stored_rows(appends, heads, await self._sealing_keys(every))
        try:
            await self.conn.execute(
                append_statement(self.store.tables),
                append_parameters(rows.event_rows, rows.outbox_rows, rows.json_texts),
            )
        except IntegrityError as exc:
            if "events_stream_version_uq" not in str(exc.orig):
                raise
            lost = appends[0].stream_id if len(appends) == 1 else "(batch)"
            raise ConcurrencyError(lost, None, -1) from exc
        await self.store.project(self.conn, [r.envelope for r in every])
        return every

    async def claim_inbox(self, entries: Sequence[InboxEntry]) -> set[uuid.UUID]:
        if not entries:
            return set()
        inbox = self.store.tables.inbox
        rows = [
            {
                "event_id": e.event_id,
                "event_type": e.event_type,
                "topic": e.topic,
                "partition": e.partition,
                "offset": e.offset,
                "envelope": e.envelope,
                "outcome": e.outcome,
            }
            for e in entries
        ]
        # One statement text whatever the batch's size (libs/sql_arrays.py), rows numbered in the
        # order consumed (the inbox's position).
        result = await self.conn.execute(
            insert_rows(inbox, rows, in_order=True).on_conflict_do_nothing().returning(inbox.c.event_id)
        )
        return {r.event_id for r in result}

    async def park(self, letter: DeadLetter) -> bool:
        dead = self.store.tables.dead_letters
        parked = await self.conn.execute(
            pg_insert(dead).on_conflict_do_nothing().returning(dead.c.id),
            {
                "event_id": letter.event_id,
                "topic": letter.topic,
                "partition": letter.partition,
                "offset": letter.offset,
                "key": letter.key,
                "value": letter.value,
                "error_type": letter.error_type,
                "error": letter.error,
                "attempts": letter.attempts,
            },
        )
        return parked.first() is not None

    async def enqueue(self, message: OutboxMessage) -> None:
        await self.conn.execute(
            insert(self.store.tables.outbox),
            {
                "event_id": message.event_id,
                "topic": message.topic,
                "key": message.key,
                "value": message.value,
                "headers": message.headers,
            },
        )

    async def unsent(self, limit: int) -> list[OutboxMessage]:
        outbox = self.store.tables.outbox
        rows = await self.conn.execute(
            select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(limit)
        )
        return [
            OutboxMessage(
                topic=r.topic, key=r.key, value=r.value, headers=r.headers, event_id=r.event_id, id=r.id
            )
            for r in rows
        ]

    async def mark_sent(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        outbox = self.store.tables.outbox

        await self.conn.execute(update(outbox).where(any_of(outbox.c.id, ids)).values(sent_at=func.now()))
