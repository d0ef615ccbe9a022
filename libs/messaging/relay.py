"""The outbox relay: publishes rows written by the service's transactions, in order, never dropping one.

One relay per service schema is active at a time (a PostgreSQL advisory lock elects it), so
the rows of one key leave in the order they were written even with several instances running.

A broker that comes back empty (the embedded Tansu keeps everything in memory) has lost what the
relay published to it, including what no consumer had read yet. The relay notices by the
cluster id the broker reports (the embedded broker gets a new one at every start; a Kafka
cluster keeps its own for life): every `cluster_check_interval_s`, after a send failed, and
before a batch whenever the producer's broker connections changed since the last check (a
broker that restarts drops them), never as one request per batch. It then creates its topics
again, before anything is produced to them (Tansu accepts a produce to a topic it does not know,
keeps the records where no fetch finds them and fails every later produce to that topic), and
publishes its whole outbox again, oldest first. Consumers drop what they applied before through
their inboxes; as each topic has one producing service and the relay publishes in outbox order,
the topic fills again in the order it had.

The relay reads by position (libs/messaging/relay_cursor.py): the id of the last row sent, no
write per row sent; `sent_at` is stamped for whole runs of batches at once.

With a signer (libs/events/signing.py) every record leaves signed over its value bytes exactly as
stored (headers `lindung-key-id`, `lindung-signature`); a row's own signature headers (a parked
message's copy) are replaced, never sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.envelope import Envelope
from libs.events.signing import Signer, is_signature_header
from libs.events.topics import all_topic_names
from libs.eventstore.tables import EventStoreTables
from libs.messaging.connection import KafkaConnection
from libs.messaging.kafka import ensure_topics
from libs.messaging.relay_cursor import (
    Hole,
    RelayCursor,
    mark_all_unsent,
    outbox_writers,
    rows_after,
    stamp,
    start_position,
)
from libs.privacy.envelopes import OPENED_FOR, open_envelopes
from libs.privacy.vault import KeyVault

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0


class OutboxRelay:
    """Moves outbox rows to Kafka, in id order, and stamps them sent."""

    def __init__(
        self,
        engine: AsyncEngine,
        tables: EventStoreTables,
        producer: AIOKafkaProducer,
        *,
        batch_size: int,
        poll_interval_s: float,
        republish_on_start: bool = False,
        cluster_check_interval_s: float = 1.0,
        topic_partitions: int,
        topic_configs: dict[str, str] | None = None,
        connection: KafkaConnection | None = None,
        signer: Signer | None = None,
        vault: KeyVault | None = None,
    ) -> None:
        self.engine = engine
        # Opens the personal fields of what goes to a foreign reader (BPJS) at the moment of
        # sending (libs/privacy): the outbox itself keeps them sealed.
        self.vault = vault
        # Signs every record sent (None: unsigned, development only).
        self.signer = signer
        self.tables = tables
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.republish_on_start = republish_on_start
        self.cluster_check_interval_s = cluster_check_interval_s
        # Partitions of the topics created again on a new cluster (LINDUNG_TOPIC_PARTITIONS).
        self.topic_partitions = topic_partitions
        # And their settings (retention, segment size: LINDUNG_KAFKA_TOPIC_*), as at first creation.
        self.topic_configs = topic_configs or {}
        # How to reach the broker for topic creation (a secured cluster needs credentials).
        self.connection = connection
        self.published = 0
        self.is_leader = False
        # The broker's cluster id when last asked, and when that was (monotonic seconds).
        self.cluster_id: str | None = None
        self.new_clusters = 0
        self._cluster_checked_at = 0.0
        self._known_connections: frozenset[Any] = frozenset()
        # Where publishing stands (set when this instance leads).
        self.cursor: RelayCursor | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask for an immediate poll (after a commit that wrote outbox rows)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until stopped; survives database and broker outages by retrying with backoff."""
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                async with self.engine.connect() as lock_conn:
                    await self._lead(lock_conn)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.is_leader = False
                log.warning("outbox relay of %s paused: %s", self.tables.schema, exc)
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _lead(self, lock_conn: AsyncConnection) -> None:
        lock_key = f"lindung-outbox-{self.tables.schema}"
        while not self._stopping.is_set():
            got = (
                await lock_conn.execute(select(func.pg_try_advisory_lock(func.hashtext(lock_key))))
            ).scalar_one()
            await lock_conn.commit()
            if got:
                break
            await self._sleep(1.0)
        if self._stopping.is_set():
            return
        self.is_leader = True
        if self.republish_on_start:
            await self._mark_all_unsent()
            self.republish_on_start = False
        # A new leader (or this one after an outage) starts after what is stamped sent.
        async with self.engine.connect() as conn:
            self.cursor = RelayCursor(await start_position(conn, self.tables.outbox))
            await conn.rollback()
        backoff = 0.1
        try:
            while not self._stopping.is_set():
                try:
                    if time.monotonic() - self._cluster_checked_at >= self.cluster_check_interval_s:
                        await self._follow_cluster()
                    sent = await self.publish_batch()
                    backoff = 0.1
                except KafkaError as exc:
                    log.warning("broker unavailable, outbox of %s waits: %s", self.tables.schema, exc)
                    self._cluster_checked_at = 0.0  # the broker may come back as a new cluster
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    continue
                if sent < self.batch_size and not self._hole_settles_now():
                    await self._sleep(self.poll_interval_s)
        finally:
            if self._stopping.is_set():
                with contextlib.suppress(Exception):
                    await self.stamp_sent()

    async def publish_batch(self) -> int:
        """Publish the rows after the cursor, oldest first, up to the first unsettled hole;
        return how many rows the cursor passed (0: nothing to do now, `sent_at` then stamped)."""
        outbox = self.tables.outbox
        cursor = self.cursor
        if cursor is None:  # called outside `run` (tests): start where the stamps say
            async with self.engine.connect() as conn:
                cursor = self.cursor = RelayCursor(await start_position(conn, outbox))
                await conn.rollback()
        async with self.engine.connect() as conn:
            if cursor.hole is not None and not (cursor.hole.writers & await outbox_writers(conn, outbox)):
                cursor.settle()  # (the read below takes its snapshot after this check)
            rows = await rows_after(conn, outbox, cursor.position, self.batch_size)
            ready = cursor.unbroken([r.id for r in rows])
            if ready < len(rows) and cursor.hole is None:
                cursor.hole = Hole(rows[-1].id, await outbox_writers(conn, outbox))
            rows = rows[:ready]
            todo = [r for r in rows if not r.stamped]
            values = await self._values(conn, todo)
            await conn.rollback()
        if not rows:
            await self.stamp_sent()  # caught up: make `sent_at` tell the truth
            return 0
        if todo and self._connections_changed() and await self._follow_cluster():
            return 0  # the whole outbox waits again, oldest first
        try:
            futures = [await self._send(row, values.get(row.id, row.value)) for row in todo]
            await asyncio.gather(*futures)
        except KafkaError:
            await self._count_attempt([r.id for r in todo])
            raise
        cursor.advance(rows[-1].id, datetime.now(UTC) if todo else None)
        self.published += len(todo)
        if cursor.stamp_due():
            await self.stamp_sent()
        return len(rows)

    def _hole_settles_now(self) -> bool:
        """A hole seen while no other transaction wrote to the outbox: it is final already."""
        hole = self.cursor.hole if self.cursor is not None else None
        return hole is not None and not hole.writers

    async def stamp_sent(self) -> int:
        """Stamp `sent_at` on every row the relay sent and has not stamped yet (one UPDATE)."""
        cursor = self.cursor
        if cursor is None or not cursor.unstamped:
            return 0
        async with self.engine.begin() as conn:
            stamped = await stamp(conn, self.tables.outbox, cursor.unstamped)
        cursor.unstamped.clear()
        return stamped

    async def _values(self, conn: AsyncConnection, rows: Sequence[Any]) -> dict[int, bytes]:
        """The values to send instead of the stored ones: rows for foreign readers, opened."""
        if self.vault is None:
            return {}
        foreign = [r for r in rows if r.topic in OPENED_FOR]
        if not foreign:
            return {}
        opened = await open_envelopes(conn, self.vault, [Envelope.from_bytes(r.value) for r in foreign])
        return {r.id: envelope.to_bytes() for r, envelope in zip(foreign, opened, strict=True)}

    async def _send(self, row: Any, value: bytes) -> asyncio.Future[Any]:
        headers = [(k, v.encode()) for k, v in row.headers if not is_signature_header(k)]
        if self.signer is not None:
            headers += self.signer.headers(value)
        future: asyncio.Future[Any] = await self.producer.send(row.topic, value, key=row.key, headers=headers)
        return future

    async def _count_attempt(self, ids: list[int]) -> None:
        outbox = self.tables.outbox
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(attempts=outbox.c.attempts + 1)
            )

    async def _follow_cluster(self) -> bool:
        """Ask the broker for its cluster id; on a new cluster, prepare to publish everything again.

        Returns True when the cluster is new (its topics are created, every row is unsent again).
        Raises KafkaError while the broker does not answer.
        """
        client = self.producer.client
        node_id = client.get_random_node()
        if node_id is None:
            raise KafkaConnectionError("no broker known")
        response = await client.send(node_id, MetadataRequest([]))
        cluster_id = str(getattr(response, "cluster_id", None) or "")
        self._cluster_checked_at = time.monotonic()
        self._known_connections = self._connections()
        if self.cluster_id is None or cluster_id == self.cluster_id:
            self.cluster_id = cluster_id
            return False
        log.warning(
            "broker of %s is a new cluster (%s, was %s): its topics are created again and the "
            "outbox is published again",
            self.tables.schema,
            cluster_id,
            self.cluster_id,
        )
        await self._create_topics()
        # Forget partition leaders and topics of the old cluster before the next produce.
        await client.force_metadata_update()
        await self._mark_all_unsent()
        self.cluster_id = cluster_id
        self.new_clusters += 1
        return True

    async def _create_topics(self) -> None:
        # Every Lindung topic, not only this outbox's: a topic nobody inside Lindung writes to
        # (BPJS claims, regency nominations) must exist again before its consumers' offset
        # commits and the foreign producers' sends reach the new broker.
        outbox = self.tables.outbox
        async with self.engine.connect() as conn:
            names = set((await conn.execute(select(outbox.c.topic).distinct())).scalars())
            await conn.rollback()
        names.update(all_topic_names())
        bootstrap = ",".join(f"{b.host}:{b.port}" for b in self.producer.client.cluster.brokers())
        target = replace(self.connection, bootstrap=bootstrap) if self.connection else bootstrap
        await ensure_topics(target, sorted(names), self.topic_partitions, configs=self.topic_configs)

    def _connections(self) -> frozenset[Any]:
        """The producer's open broker connections (aiokafka keeps them by node)."""
        conns = getattr(self.producer.client, "_conns", {})
        return frozenset(c for c in conns.values() if c.connected())

    def _connections_changed(self) -> bool:
        """True when the producer opened or lost a broker connection since the last cluster
        check: a restarted broker may be a new, empty cluster, to be known before producing."""
        return self._connections() != self._known_connections

    async def _mark_all_unsent(self) -> None:
        async with self.engine.begin() as conn:
            count = await mark_all_unsent(conn, self.tables.outbox)
        self.cursor = RelayCursor(0)
        log.info("re-publishing %s stored messages of %s", count, self.tables.schema)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def unsent(self) -> int:
        """How many rows wait to be published."""
        outbox = self.tables.outbox
        async with self.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                    )
                ).scalar_one()
            )
