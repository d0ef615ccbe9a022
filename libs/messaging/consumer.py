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
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord

from libs.events.catalog import UnknownEventType, decode, event_types_on
from libs.events.envelope import Envelope
from libs.events.signing import Keyring, SignatureRefused, TrustedKey, check_producer
from libs.events.topics import DEFAULT_BPJS_PRODUCERS, FOREIGN_TOPICS, producer_refusal
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.ports import DeadLetter, InboxEntry, OutboxMessage, Store
from libs.messaging.dead_letters import (
    DLQ_MAX_KEY_BYTES,
    DLQ_MAX_VALUE_BYTES,
    dead_letter_copy,
    dead_letter_headers,
    error_text,
)
from libs.messaging.handler_shapes import Consumed, ParkingReactor, Reactor
from libs.messaging.outage import is_outage
from libs.messaging.record_headers import passes_by

# The names services and tests import from here (the handler shapes, the outage test, the
# dead-letter copy) live in the modules above.
__all__ = [
    "DLQ_MAX_KEY_BYTES",
    "DLQ_MAX_VALUE_BYTES",
    "Consumed",
    "InboxConsumer",
    "ParkingReactor",
    "Reactor",
    "dead_letter_copy",
    "is_outage",
]

log = logging.getLogger(__name__)

MAX_CONCURRENCY_RETRIES = 30
MAX_OUTAGE_BACKOFF_S = 5.0


class InboxConsumer:
    """Applies batches of records from Kafka to one service, exactly once each."""

    def __init__(
        self,
        store: Store,
        handler: Reactor,
        *,
        group: str,
        dead_letter_topic: str,
        max_attempts: int,
        retry_backoff_s: float,
        on_commit: Callable[[], None] = lambda: None,
        keyring: Keyring | None = None,
        bpjs_producers: Sequence[str] = DEFAULT_BPJS_PRODUCERS,
    ) -> None:
        # The service's store (libs/eventstore/ports.py): inbox, dead letters, outbox and the
        # handler's writes in one of its transactions; PostgreSQL live, memory in unit tests.
        self.store = store
        # None: signatures are not checked (development; said once at start by the caller).
        self.keyring = keyring
        # Who speaks for BPJS on its topics (settings.bpjs_producers).
        self.bpjs_producers = tuple(bpjs_producers)
        self.handler = handler
        self.group = group
        self.dead_letter_topic = dead_letter_topic
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.on_commit = on_commit
        self.applied = 0
        self.duplicates = 0
        self.parked = 0
        # Records of types the handler does not take, left unparsed by their headers.
        self.passed_by = 0

    async def handle_records(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply every record of a batch (or park it); returns when all are settled."""
        read: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        for record in records:
            try:
                key = self._signer_of(record)
            except SignatureRefused as refused:
                await self._park(record, None, refused, attempts=1)
                continue
            if passes_by(record, self.handler.interested, key):
                self.passed_by += 1
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
        found: list[Envelope] = []

        async def read() -> None:
            found[:] = await self.store.opened(envelopes)

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
        # A reactor may keep another copy of what it consumed (the dashboard: minimised).
        copy: Callable[[Consumed], Envelope] = getattr(self.handler, "inbox_copy", lambda i: i.envelope)
        async with self.store.transaction() as tx:
            fresh = await tx.claim_inbox(
                [_inbox_entry(i.record, copy(i), "applied") for i in unique.values()]
            )
            todo = [item for item in unique.values() if item.envelope.event_id in fresh]
            await self.handler.react(tx, todo)
        self.applied += len(fresh)
        self.duplicates += len(items) - len(fresh)
        self.on_commit()

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
        headers = dead_letter_headers(record, error, group=self.group, attempts=attempts)
        dlq_key, dlq_value, cut = dead_letter_copy(record.key, record.value or b"")
        headers += cut

        letter = DeadLetter(
            event_id=envelope.event_id if envelope else None,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value or b"",
            error_type=type(error).__name__,
            error=error_text(error),
            attempts=attempts,
        )
        copy = OutboxMessage(topic=self.dead_letter_topic, key=dlq_key, value=dlq_value, headers=headers)

        async def write() -> None:
            async with self.store.transaction() as tx:
                if not await tx.park(letter):
                    return  # this very record was parked before (redelivery)
                if envelope is not None:
                    await tx.claim_inbox([_inbox_entry(record, envelope, "parked")])
                on_parked = getattr(self.handler, "parked", None)
                if on_parked is not None:
                    await on_parked(tx, record, envelope, error)
                await tx.enqueue(copy)

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


def _inbox_entry(record: ConsumerRecord[bytes, bytes], envelope: Envelope, outcome: str) -> InboxEntry:
    """The inbox row of a consumed envelope (as it came: the service's input log)."""
    return InboxEntry(
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        envelope=envelope.model_dump(mode="json"),
        outcome=outcome,
    )
