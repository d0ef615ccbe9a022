"""The outbox relay: publishes rows written by the service's transactions, in order, never dropping one.

One relay per service schema is active at a time (a PostgreSQL advisory lock elects it), so
the rows of one key leave in the order they were written even with several instances running.

A broker that comes back empty (the embedded Tansu keeps everything in memory) has lost what the
relay published to it, including what no consumer had read yet. The relay notices by the
cluster id the broker reports (the embedded broker gets a new one at every start; a Kafka
cluster keeps its own for life): before each batch, and every `cluster_check_interval_s` when
idle. It then creates its topics again, before anything is produced to them (Tansu accepts a
produce to a topic it does not know, keeps the records where no fetch finds them and fails every
later produce to that topic), and publishes its whole outbox again, oldest first. Consumers
drop what they applied before through their inboxes; as each topic has one producing service
and the relay publishes in outbox order, the topic fills again in the order it had.

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
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.envelope import Envelope
from libs.events.signing import Signer, is_signature_header
from libs.events.topics import all_topic_names
from libs.eventstore.tables import EventStoreTables
from libs.messaging.connection import KafkaConnection
from libs.messaging.kafka import ensure_topics
from libs.privacy.envelopes import OPENED_FOR, open_envelopes
from libs.privacy.vault import KeyVault

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0


class OutboxRelay:
    """Moves outbox rows to Kafka and marks them sent."""

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
        # How to reach the broker for topic creation (a secured cluster needs credentials).
        self.connection = connection
        self.published = 0
        self.is_leader = False
        # The broker's cluster id when last asked, and when that was (monotonic seconds).
        self.cluster_id: str | None = None
        self.new_clusters = 0
        self._cluster_checked_at = 0.0
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
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                if time.monotonic() - self._cluster_checked_at >= self.cluster_check_interval_s:
                    await self._follow_cluster()
                sent = await self.publish_batch()
                backoff = 0.1
            except KafkaError as exc:
                log.warning("broker unavailable, outbox of %s waits: %s", self.tables.schema, exc)
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if sent < self.batch_size:
                await self._sleep(self.poll_interval_s)

    async def publish_batch(self) -> int:
        """Publish the oldest unsent rows; return how many were sent."""
        outbox = self.tables.outbox
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value, outbox.c.headers)
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            values = await self._values(conn, rows)
            await conn.rollback()
        if not rows:
            return 0
        if await self._follow_cluster():
            return 0  # the whole outbox waits again, oldest first
        try:
            futures = [await self._send(row, values.get(row.id, row.value)) for row in rows]
            await asyncio.gather(*futures)
        except KafkaError:
            await self._count_attempt([r.id for r in rows])
            raise
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id.in_([r.id for r in rows])).values(sent_at=func.now())
            )
        self.published += len(rows)
        return len(rows)

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
        await ensure_topics(target, sorted(names), self.topic_partitions)

    async def _mark_all_unsent(self) -> None:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                text(f"UPDATE {self.tables.schema}.outbox SET sent_at = NULL WHERE sent_at IS NOT NULL")
            )
        log.info("re-publishing %s stored messages of %s", result.rowcount, self.tables.schema)

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
