"""The same read-model inputs, read from Kafka instead of the store (`--source kafka`).

A fresh consumer without a group (`group_id=None`, `auto_offset_reset="earliest"`) reads every
partition of the topics from their first offset to the end offsets found at start.

What a topic does not carry, and how this module makes up for it:

- **Whose events.** Every Lindung topic is read; an envelope is the service's own when its
  `producer` is the service's name (the event store stamps it). Repeats (at-least-once delivery,
  the embedded broker's republish at start) are dropped by event id.
- **Stream order.** A stream's events may sit on several partitions (keys are worker ids, not
  stream ids), so own events are regrouped by stream and put back in version order; a missing
  version is reported as a note.
- **Applied or parked, and in which order** (the topic says neither). Two ways, chosen by the caller:

  - `inbox` (the default of `lindung audit replay --source kafka`): the service's inbox, read in
    the auditor's read-only snapshot, says which envelopes were applied (outcome `applied`) and in
    which order (its positions, merged with the own streams by `consumed_at`); the envelopes
    themselves are the ones read from Kafka. An envelope the inbox applied that Kafka does not
    have is reported, and shows as a difference where it had an effect.
  - `handler` (no database at all): an envelope on a consumed topic counts as applied when the
    service's handler is interested in its type, it decodes (old versions upcast), it is the
    first delivery of its event id (the inbox drops repeats), and it is not on the service's
    dead-letter topic `lindung.<service>.dlq.v1` (where the consumer parks what it could not
    apply, by event id). Kafka only orders a partition, so partitions are kept in offset order
    and merged with the own streams by `occurred_at` (consumed first on ties): exact for
    everything keyed by one worker, approximate between topics. A projection whose result
    depends on the arrival order across topics (e.g. a "last write wins" timestamp fed by two
    topics) can then differ from the live one, and the report names the rows.

- **Who really sent it.** With a keyring (`LINDUNG_EVENT_KEYRING_FILE`), a record is taken only
  when its signature verifies and its envelope's `producer` is the key's (libs/events/signing.py),
  as the live consumer checks: a forged envelope naming a service is neither that service's own
  event nor an applied input (`refused` counts them). The live consumer parks such a record
  without its event id, so the dead-letter topic alone could not tell it from an applied one.

Limits: consumer lag or unsent outbox rows make Kafka and the store disagree (the report then
names the differing rows, rightly); a topic that lost old segments to retention cannot rebuild
the past; `--as-of` needs application times that only the store has, so it is refused here.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer

from libs.audit.source import Applied
from libs.events.catalog import decode
from libs.events.envelope import Envelope
from libs.events.signing import Keyring, SignatureRefused, check_producer
from libs.events.topics import TOPICS, dead_letter_topic
from libs.messaging.kafka import Target, as_connection, topic_partitions
from libs.privacy.envelopes import read_without_keys

IDLE_POLLS = 3  # empty 200 ms polls after the end offsets before the read is over


@dataclass(frozen=True, slots=True)
class Record:
    """The parts of a Kafka record a replay needs."""

    topic: str
    partition: int
    offset: int
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class KafkaInputs:
    """What was selected from the topics, in replay order, and what was left out and why."""

    inputs: list[Applied]
    own: int = 0
    consumed: int = 0
    duplicates: int = 0
    not_interested: int = 0
    undecodable: int = 0
    parked: int = 0
    refused: int = 0  # records whose signature does not prove their producer (with a keyring)
    not_in_inbox: int = 0  # what the handler would take but the inbox never applied (lag)
    notes: list[str] = field(default_factory=list)


async def read_records(
    target: Target, topics: Sequence[str], *, stall_timeout_s: float = 20.0
) -> list[Record]:
    """Every record of `topics` (those that exist): up to the end offsets seen at start, then on
    until no partition delivers anything for IDLE_POLLS polls."""
    consumer = AIOKafkaConsumer(
        **as_connection(target).aiokafka_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, topics)
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        records: list[Record] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + stall_timeout_s
        remaining = {tp for tp in parts if await consumer.position(tp) < ends[tp]}
        idle = 0
        # To the end offsets, then on until the partitions stay quiet: Tansu 0.6 reports the end
        # of a partition as its last batch's base offset + 1, before that batch's other records.
        while remaining or idle < IDLE_POLLS:
            batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
            got = [r for recs in batch.values() for r in recs]
            idle = 0 if got else idle + 1
            if got:
                deadline = loop.time() + stall_timeout_s
            records.extend(
                Record(r.topic, r.partition, r.offset, r.value or b"", tuple(r.headers or ())) for r in got
            )
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
            if remaining and loop.time() > deadline:
                late = sorted(f"{tp.topic}/{tp.partition}" for tp in remaining)
                raise TimeoutError(f"Kafka stopped delivering before the end of {late}")
        return records
    finally:
        await consumer.stop()


def _envelope(value: bytes) -> Envelope | None:
    try:
        return Envelope.from_bytes(value)
    except ValueError:
        return None


def _proven(keyring: Keyring, record: Record, envelope: Envelope) -> bool:
    """Whether a trusted key signed the record and speaks for its envelope's producer."""
    try:
        check_producer(keyring.verify(record.value, record.headers), envelope.producer)
    except SignatureRefused:
        return False
    return True


def parked_ids(dead_letters: Iterable[Record]) -> set[str]:
    """Event ids of the envelopes a service parked (values on its dead-letter topic)."""
    ids = set()
    for record in dead_letters:
        envelope = _envelope(record.value)
        if envelope is not None:
            ids.add(str(envelope.event_id))
    return ids


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """What the service's inbox says of one consumed envelope."""

    position: int
    consumed_at: datetime
    outcome: str  # applied | parked


def select_inputs(
    records: Iterable[Record],
    *,
    producer: str,
    consumes: Iterable[str],
    interested: frozenset[str],
    parked: set[str],
    inbox: Mapping[str, InboxEntry] | None = None,
    keyring: Keyring | None = None,
) -> KafkaInputs:
    """Own events and applied consumed envelopes among `records`, in replay order.

    Without `inbox`, the handler's semantics decide which consumed envelopes were applied and
    partitions merge by `occurred_at`; with it, the inbox's outcome decides and its positions give
    the order (the envelopes themselves still come from Kafka)."""
    consumed_topics = set(consumes)
    seen: set[str] = set()
    own: list[Envelope] = []
    partitions: dict[tuple[str, int], list[tuple[int, Applied]]] = defaultdict(list)
    result = KafkaInputs(inputs=[])
    for record in records:
        envelope = _envelope(record.value)
        if envelope is None:
            continue
        if keyring is not None and not _proven(keyring, record, envelope):
            result.refused += 1
            continue
        event_id = str(envelope.event_id)
        if envelope.producer == producer:
            if event_id in seen:
                result.duplicates += 1
                continue
            seen.add(event_id)
            own.append(envelope)
            continue
        if record.topic not in consumed_topics:
            continue
        if inbox is not None:
            entry = inbox.get(event_id)
            if entry is None:
                if envelope.event_type in interested:
                    result.not_in_inbox += 1
                else:
                    result.not_interested += 1
                continue
        elif envelope.event_type not in interested:
            result.not_interested += 1
            continue
        if event_id in seen:
            result.duplicates += 1
            continue
        seen.add(event_id)
        if inbox is not None:
            entry = inbox[event_id]
            if entry.outcome != "applied":
                result.parked += 1
                continue
            partitions[("inbox", 0)].append(
                (entry.position, Applied(envelope, "consumed", entry.consumed_at, entry.position))
            )
            continue
        if event_id in parked:
            result.parked += 1
            continue
        try:
            decode(read_without_keys(envelope))  # (sealed personal fields are opened before use)
        except (ValueError, LookupError):
            result.undecodable += 1  # the live consumer parks these at once
            continue
        partitions[(record.topic, record.partition)].append(
            (record.offset, Applied(envelope, "consumed", None, None))
        )
    result.own = len(own)
    result.consumed = sum(len(v) for v in partitions.values())
    if inbox is not None:
        missing = sum(1 for k, e in inbox.items() if e.outcome == "applied" and k not in seen)
        if missing:
            result.notes.append(f"{missing} envelopes the inbox applied are not on Kafka")
    queues = [[a for _, a in sorted(v, key=lambda p: p[0])] for v in partitions.values()]
    result.inputs, notes = order_inputs(own, queues)
    result.notes += notes
    return result


def order_inputs(
    own: Iterable[Envelope], consumed_queues: Iterable[Sequence[Applied]]
) -> tuple[list[Applied], list[str]]:
    """Own streams in version order and consumed queues in their order (partition offsets, or
    inbox positions), merged by time: the inbox's `consumed_at` where known, else `occurred_at`
    (consumed first on ties); notes name streams with missing versions."""
    streams: dict[str, list[Envelope]] = defaultdict(list)
    for envelope in own:
        streams[envelope.aggregate_id].append(envelope)
    notes: list[str] = []
    queues: list[deque[Applied]] = []
    for stream, envelopes in sorted(streams.items()):
        envelopes.sort(key=lambda e: e.aggregate_version)
        versions = [e.aggregate_version for e in envelopes]
        if versions != list(range(1, len(versions) + 1)):
            missing = sorted(set(range(1, max(versions) + 1)) - set(versions))
            notes.append(f"stream {stream}: versions {missing} are not on Kafka")
        queues.append(deque(Applied(e, "own", None, None) for e in envelopes))
    for queue in consumed_queues:
        queues.append(deque(queue))
    heap = [(_key(q[0]), i) for i, q in enumerate(queues) if q]
    heapq.heapify(heap)
    ordered: list[Applied] = []
    while heap:
        _, i = heapq.heappop(heap)
        ordered.append(queues[i].popleft())
        if queues[i]:
            heapq.heappush(heap, (_key(queues[i][0]), i))
    return ordered, notes


def _key(applied: Applied) -> tuple[float, int]:
    at = applied.at or applied.envelope.occurred_at
    return (at.timestamp(), 0 if applied.origin == "consumed" else 1)


async def kafka_inputs(
    bootstrap: Target,
    *,
    producer: str,
    consumes: Sequence[str],
    interested: frozenset[str],
    inbox: Mapping[str, InboxEntry] | None = None,
    keyring: Keyring | None = None,
) -> KafkaInputs:
    """Read the topics and select a service's inputs (see the module doc)."""
    topics = [t.name for t in TOPICS] + list(consumes)
    dlq = dead_letter_topic(producer)
    records = await read_records(bootstrap, [*topics, dlq])
    parked = parked_ids(r for r in records if r.topic == dlq)
    return select_inputs(
        (r for r in records if r.topic != dlq),
        producer=producer,
        consumes=consumes,
        interested=interested,
        parked=parked,
        inbox=inbox,
        keyring=keyring,
    )
