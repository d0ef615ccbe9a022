"""The outbox relay: publishes rows written by the service's transactions, in order, never dropping one.

One relay per service schema is active at a time (a PostgreSQL advisory lock elects it), so
the rows of one key leave in the order they were written even with several instances running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.eventstore.tables import EventStoreTables

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
    ) -> None:
        self.engine = engine
        self.tables = tables
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.republish_on_start = republish_on_start
        self.published = 0
        self.is_leader = False
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
            await conn.rollback()
        if not rows:
            return 0
        try:
            futures = [await self._send(row) for row in rows]
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

    async def _send(self, row: Any) -> asyncio.Future[Any]:
        headers = [(k, v.encode()) for k, v in row.headers]
        future: asyncio.Future[Any] = await self.producer.send(
            row.topic, row.value, key=row.key, headers=headers
        )
        return future

    async def _count_attempt(self, ids: list[int]) -> None:
        outbox = self.tables.outbox
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(attempts=outbox.c.attempts + 1)
            )

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
