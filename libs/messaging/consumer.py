"""The inbox consumer: applies each consumed event exactly once, or parks it in the dead-letter topic.

Who sent a record is checked first, with a keyring (libs/events/signing.py): its signature over
the bytes before anything is parsed, then that the envelope's producer is the key's, then the
topic's allow-list. What fails is parked at once (attempts 1) with the code; a record refused
for its signature is parked without its event id (no inbox row), so an unproven copy can never
take the event id of the real message. Without a keyring (development) signatures are not checked.

A batch of records is applied in one transaction (inbox rows + the handler's writes). When the
batch fails, each event is retried alone with bounded attempts; one that still fails is parked
(dead_letters row + a dead-letter message through the outbox + an inbox mark), so the partition
keeps flowing. Outages of PostgreSQL are not the event's fault: those are retried until they end.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from aiokafka.structs import ConsumerRecord
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.catalog import UnknownEventType, decode, event_types_on
from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope
from libs.events.signing import Keyring, SignatureRefused, TrustedKey, check_producer, is_signature_header
from libs.events.topics import DEFAULT_BPJS_PRODUCERS, FOREIGN_TOPICS, producer_refusal
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresStore
from libs.eventstore.store import EventStore
from libs.eventstore.tables import EventStoreTables
from libs.messaging.kafka import MAX_REQUEST_BYTES
from libs.pii import redact_personal_data

log = logging.getLogger(__name__)

MAX_CONCURRENCY_RETRIES = 30
MAX_OUTAGE_BACKOFF_S = 5.0


@dataclass(frozen=True)
class Consumed:
    """One consumed event, decoded, with where it came from."""

    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope  # as it came (what the inbox keeps)
    event: DomainEvent
    clear: Envelope  # its personal fields opened (what the handler sees)


@dataclass(frozen=True)
class HandlerContext:
    """What a handler gets: the open transaction, the service's event store, the consumed event."""

    conn: AsyncConnection
    store: EventStore
    envelope: Envelope


class Reactor(Protocol):
    """A service's reaction to the events it consumes, on the stream kit: the consumer hands it
    the batch's new events (personal fields clear) and the batch's transaction of the store
    (libs/eventstore/ports.py); it decides with `libs.eventstore.kit.handle` in that transaction.
    The consumer commits, retries a lost race and wakes the relay."""

    interested: frozenset[str]

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None: ...


class ParkingReactor(Reactor, Protocol):
    """A Reactor that answers for what it could not apply, in the transaction that parks it."""

    async def parked(
        self,
        tx: StoreTransaction,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None: ...


class EventHandler(Protocol):
    """A service's reaction to the events it consumes."""

    interested: frozenset[str]

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None: ...


class BatchAware(Protocol):
    """A handler that applies a batch's new events together (fewer round trips) with the same
    effects as calling it once per event, in order, in the batch's one transaction."""

    async def apply_batch(
        self, conn: AsyncConnection, store: EventStore, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None: ...


class ParkingAware(Protocol):
    """A handler that must answer for what it could not apply (e.g. reply to the sender).

    Its `parked` runs inside the transaction that parks the message, so what it appends (a
    reply event) is published exactly when the message is parked.
    """

    async def parked(
        self,
        conn: AsyncConnection,
        store: EventStore,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None: ...


# SQLSTATEs of a server going down or coming up, not of a bad statement: connection exceptions
# (class 08), admin/crash shutdown and "the database system is starting up" (57P01-57P03), and
# too many connections or out of resources while it recovers (53000, 53100, 53200, 53300).
_OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53000", "53100", "53200", "53300"})


_DROPPED_CONNECTION = (asyncpg.exceptions.InternalClientError, asyncpg.exceptions.ConnectionDoesNotExistError)


def _sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error (SQLAlchemy wraps asyncpg's, which carries it), or ''."""
    for candidate in (getattr(exc, "orig", None), exc.__cause__, exc):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return ""


def is_outage(exc: BaseException) -> bool:
    """True when `exc` means the database is unreachable, not that the event is bad."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | ConnectionError | OSError):
        return True
    code = _sqlstate(exc)
    if code.startswith("08") or code in _OUTAGE_SQLSTATES:
        return True
    # asyncpg's own word for a connection the server dropped mid-operation ("cannot switch to
    # state ...; another operation is in progress", "connection was closed in the middle of
    # operation"): the next connection from the pool is sound.
    cause = getattr(exc, "orig", None)
    cause = getattr(cause, "__cause__", None) or cause
    return isinstance(cause, _DROPPED_CONNECTION)


# The dead-letter copy of a message travels through our outbox; a copy larger than the relay
# may send would fail for ever and hold back every later row of the outbox. What is larger is
# cut in the copy, which says so in its headers; the `dead_letters` row keeps every byte.
DLQ_MAX_VALUE_BYTES = MAX_REQUEST_BYTES - 64 * 1024  # room for the key, headers and framing
DLQ_MAX_KEY_BYTES = 1024


def dead_letter_copy(key: bytes | None, value: bytes) -> tuple[bytes | None, bytes, list[list[str]]]:
    """The key and value to publish on a dead-letter topic, and the headers saying what was cut."""
    headers: list[list[str]] = []
    if len(value) > DLQ_MAX_VALUE_BYTES:
        headers += [
            ["lindung-value-truncated-from", str(len(value))],
            ["lindung-value-sha256", hashlib.sha256(value).hexdigest()],
        ]
        value = value[:DLQ_MAX_VALUE_BYTES]
    if key is not None and len(key) > DLQ_MAX_KEY_BYTES:
        headers += [["lindung-key-truncated-from", str(len(key))]]
        key = key[:DLQ_MAX_KEY_BYTES]
    return key, value, headers


class InboxConsumer:
    """Applies batches of records from Kafka to one service, exactly once each."""

    def __init__(
        self,
        engine: AsyncEngine,
        tables: EventStoreTables,
        store: EventStore,
        handler: EventHandler,
        *,
        group: str,
        dead_letter_topic: str,
        max_attempts: int,
        retry_backoff_s: float,
        on_commit: Callable[[], None] = lambda: None,
        keyring: Keyring | None = None,
        stream_store: PostgresStore | None = None,
        bpjs_producers: Sequence[str] = DEFAULT_BPJS_PRODUCERS,
    ) -> None:
        self.engine = engine
        # None: signatures are not checked (development; said once at start by the caller).
        self.keyring = keyring
        # Who speaks for BPJS on its topics (settings.bpjs_producers).
        self.bpjs_producers = tuple(bpjs_producers)
        self.tables = tables
        self.store = store
        # The kit's view of the same schema, for handlers written as Reactors.
        self.stream_store = stream_store or PostgresStore(
            engine, tables, store.producer, project=_projected_each(store), vault=store.vault
        )
        self.handler = handler
        self.group = group
        self.dead_letter_topic = dead_letter_topic
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.on_commit = on_commit
        self.applied = 0
        self.duplicates = 0
        self.parked = 0

    async def handle_records(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply every record of a batch (or park it); returns when all are settled."""
        read: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        for record in records:
            try:
                key = self._signer_of(record)
            except SignatureRefused as refused:
                await self._park(record, None, refused, attempts=1)
                continue
            try:
                envelope = Envelope.from_bytes(record.value or b"")
            except ValueError as exc:
                await self._park(record, None, exc, attempts=1)
                continue
            if key is not None:
                try:
                    check_producer(key, envelope.producer)
                except SignatureRefused as refused:
                    await self._park(record, None, refused, attempts=1)
                    continue
            read.append((record, envelope))
        # Personal fields arrive sealed under each person's key (libs/privacy): the handler gets
        # them clear, one vault query for the batch; inbox and dead letters keep what came.
        wanted = [envelope for _, envelope in read if envelope.event_type in self.handler.interested]
        by_id = {e.event_id: e for e in await self._opened(wanted)}
        clear = [by_id.get(envelope.event_id, envelope) for _, envelope in read]
        items: list[Consumed] = []
        for (record, envelope), opened in zip(read, clear, strict=True):
            if envelope.event_type not in self.handler.interested:
                if record.topic in FOREIGN_TOPICS and envelope.event_type not in event_types_on(record.topic):
                    unknown = UnknownEventType(f"{envelope.event_type} is not published on {record.topic}")
                    await self._park(record, envelope, unknown, attempts=1)
                continue
            try:
                event = decode(opened)
            except (ValueError, LookupError) as exc:
                await self._park(record, envelope, exc, attempts=1)
                continue
            # Only the topic's allowed producers are applied (libs/events/topics.py).
            not_allowed = producer_refusal(
                record.topic, envelope.producer, envelope.payload, self.bpjs_producers
            )
            if not_allowed is not None:
                await self._park(record, envelope, not_allowed, attempts=1)
                continue
            items.append(Consumed(record, envelope, event, opened))
        if not items:
            return
        try:
            await self._until_db_answers(lambda: self._apply(items))
        except Exception as exc:
            log.info("batch of %s failed (%s); applying one by one", len(items), type(exc).__name__)
            for item in items:
                await self._apply_alone(item)

    async def _opened(self, envelopes: list[Envelope]) -> list[Envelope]:
        if self.store.vault is None:
            return envelopes
        found: list[Envelope] = []

        async def read() -> None:
            async with self.engine.connect() as conn:
                found[:] = await self.store.opened(conn, envelopes)

        await self._until_db_answers(read)
        return found

    def _signer_of(self, record: ConsumerRecord[bytes, bytes]) -> TrustedKey | None:
        """The key that signed `record` (None without a keyring); raises SignatureRefused."""
        if self.keyring is None:
            return None
        return self.keyring.verify(record.value or b"", record.headers)

    async def _apply_alone(self, item: Consumed) -> None:
        last: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._until_db_answers(lambda: self._apply([item]))
                return
            except Exception as exc:
                last = exc
                log.warning(
                    "event %s (%s) failed attempt %s/%s: %s",
                    item.envelope.event_id,
                    item.envelope.event_type,
                    attempt,
                    self.max_attempts,
                    type(exc).__name__,
                )
                await asyncio.sleep(self.retry_backoff_s * attempt)
        assert last is not None
        await self._park(item.record, item.envelope, last, attempts=self.max_attempts)

    async def _apply(self, items: Sequence[Consumed]) -> None:
        unique: dict[Any, Consumed] = {}
        for item in items:
            unique.setdefault(item.envelope.event_id, item)
        apply_batch = getattr(self.handler, "apply_batch", None)
        react = getattr(self.handler, "react", None)
        async with self.engine.begin() as conn:
            fresh = await self._claim_inbox(conn, list(unique.values()), outcome="applied")
            todo = [item for item in unique.values() if item.envelope.event_id in fresh]
            if react is not None:
                await react(self.stream_store.within(conn), todo)
            elif apply_batch is not None:
                await apply_batch(conn, self.store, [(item.clear, item.event) for item in todo])
            else:
                for item in todo:
                    ctx = HandlerContext(conn=conn, store=self.store, envelope=item.clear)
                    await self.handler(ctx, item.event)
        self.applied += len(fresh)
        self.duplicates += len(items) - len(fresh)
        self.on_commit()

    async def _claim_inbox(
        self, conn: AsyncConnection, items: Sequence[Consumed], *, outcome: str
    ) -> set[Any]:
        """Insert inbox rows; return the ids that were not there yet (the events to apply)."""
        rows = [
            {
                "event_id": i.envelope.event_id,
                "event_type": i.envelope.event_type,
                "topic": i.record.topic,
                "partition": i.record.partition,
                "offset": i.record.offset,
                "envelope": i.envelope.model_dump(mode="json"),
                "outcome": outcome,
            }
            for i in items
        ]
        inbox = self.tables.inbox
        result = await conn.execute(
            pg_insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id), rows
        )
        return {r.event_id for r in result}

    async def _until_db_answers(self, attempt: Callable[[], Awaitable[None]]) -> None:
        """Run `attempt`, waiting out database outages and retrying lost concurrency races."""
        backoff = 0.1
        races = 0
        while True:
            try:
                await attempt()
                return
            except ConcurrencyError:
                races += 1
                if races > MAX_CONCURRENCY_RETRIES:
                    raise
                await asyncio.sleep(0.005 * races)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                log.warning("database unavailable (%s); retrying in %.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_OUTAGE_BACKOFF_S)

    async def _park(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
        *,
        attempts: int,
    ) -> None:
        """Record the message as a dead letter and queue it on the dead-letter topic."""
        error_text = redact_personal_data(f"{type(error).__name__}: {error}")[:2000]
        if isinstance(error, SignatureRefused):
            error_text = f"SignatureRefused: {error.code}: {error.message}"[:2000]
        # The sender's signature headers are kept under other names: the copy is signed by us.
        headers = [
            [
                f"lindung-origin-{k.removeprefix('lindung-')}" if is_signature_header(k) else k,
                v.decode(errors="replace"),
            ]
            for k, v in (record.headers or ())
        ]
        headers += [
            ["lindung-error-type", type(error).__name__],
            ["lindung-error", error_text],
            ["lindung-origin-topic", record.topic],
            ["lindung-origin-partition", str(record.partition)],
            ["lindung-origin-offset", str(record.offset)],
            ["lindung-consumer-group", self.group],
            ["lindung-attempts", str(attempts)],
        ]

        dlq_key, dlq_value, cut = dead_letter_copy(record.key, record.value or b"")
        headers += cut

        async def write() -> None:
            async with self.engine.begin() as conn:
                parked = await conn.execute(
                    pg_insert(self.tables.dead_letters)
                    .on_conflict_do_nothing()
                    .returning(self.tables.dead_letters.c.id),
                    {
                        "event_id": envelope.event_id if envelope else None,
                        "topic": record.topic,
                        "partition": record.partition,
                        "offset": record.offset,
                        "key": record.key,
                        "value": record.value or b"",
                        "error_type": type(error).__name__,
                        "error": error_text,
                        "attempts": attempts,
                    },
                )
                if parked.first() is None:
                    return  # this very record was parked before (redelivery)
                if envelope is not None:
                    await conn.execute(
                        pg_insert(self.tables.inbox).on_conflict_do_nothing(),
                        {
                            "event_id": envelope.event_id,
                            "event_type": envelope.event_type,
                            "topic": record.topic,
                            "partition": record.partition,
                            "offset": record.offset,
                            "envelope": json.loads(envelope.model_dump_json()),
                            "outcome": "parked",
                        },
                    )
                on_parked = getattr(self.handler, "parked", None)
                if on_parked is not None and hasattr(self.handler, "react"):
                    await on_parked(self.stream_store.within(conn), record, envelope, error)
                elif on_parked is not None:
                    await on_parked(conn, self.store, record, envelope, error)
                await conn.execute(
                    insert(self.tables.outbox),
                    {
                        "event_id": None,
                        "topic": self.dead_letter_topic,
                        "key": dlq_key,
                        "value": dlq_value,
                        "headers": headers,
                    },
                )

        await self._until_db_answers(write)
        self.parked += 1
        log.error(
            "parked %s/%s@%s in %s: %s",
            record.topic,
            record.partition,
            record.offset,
            self.dead_letter_topic,
            type(error).__name__,
        )
        self.on_commit()


def _projected_each(store: EventStore) -> Callable[[AsyncConnection, Sequence[Envelope]], Awaitable[None]]:
    async def project(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            await store.projector(conn, envelope)

    return project
