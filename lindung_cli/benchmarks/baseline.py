"""The raw broker's rate, measured next to the pipeline: what plain aiokafka does with the same
number of messages of the same size on the same broker and partition count.

One producer sends every message (the same way the pipeline bench sends its nominations) while
one consumer without a group reads the topic from the start; the rate is messages ÷ the time from
the first send to the last message read. The topic is the benchmark's own and deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from libs.messaging.kafka import ensure_topics

# Futures awaited together: enough to keep the producer's batches full, few enough to bound memory.
SEND_WINDOW = 2_000


@dataclass
class BaselineResult:
    messages: int
    message_bytes: int
    partitions: int
    produce_s: float
    wall_s: float

    @property
    def produce_per_s(self) -> float:
        return self.messages / self.produce_s if self.produce_s else 0.0

    @property
    def per_s(self) -> float:
        """Messages produced and consumed per second, first send to last read."""
        return self.messages / self.wall_s if self.wall_s else 0.0


async def send_all(
    producer: AIOKafkaProducer,
    topic: str,
    messages: list[tuple[bytes, bytes]],
    headers: list[list[tuple[str, bytes]]] | None = None,
) -> list[float]:
    """Send (key, value) pairs (with each one's `headers`: its signature); return the wall-clock
    time each was acknowledged (per window)."""
    acked: list[float] = []
    pending: list[asyncio.Future[object]] = []
    for index, (key, value) in enumerate(messages):
        extra = headers[index] if headers else None
        pending.append(await producer.send(topic, value=value, key=key, headers=extra))
        if len(pending) >= SEND_WINDOW:
            await asyncio.gather(*pending)
            acked += [time.time()] * len(pending)
            pending = []
    if pending:
        await asyncio.gather(*pending)
        acked += [time.time()] * len(pending)
    return acked


async def measure(bootstrap: str, count: int, message_bytes: int, partitions: int) -> BaselineResult:
    topic = f"lindung.bench.baseline.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions)
    value = b"x" * message_bytes
    messages = [(f"k{i}".encode(), value) for i in range(count)]
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await consumer.start()
    await producer.start()
    try:
        # The consumer holds its partitions before the clock starts (no group: immediate).
        await consumer.getmany(timeout_ms=200)
        started = time.perf_counter()

        async def read() -> float:
            seen = 0
            while seen < count:
                batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
                seen += sum(len(records) for records in batch.values())
            return time.perf_counter()

        reader = asyncio.create_task(read())
        await send_all(producer, topic, messages)
        produced = time.perf_counter()
        finished = await asyncio.wait_for(reader, timeout=max(60.0, count / 1_000))
    finally:
        await producer.stop()
        await consumer.stop()
        await _delete(bootstrap, topic)
    return BaselineResult(
        messages=count,
        message_bytes=message_bytes,
        partitions=partitions,
        produce_s=produced - started,
        wall_s=finished - started,
    )


async def _delete(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    # A broker that cannot delete topics keeps a small benchmark topic: not worth failing for.
    with contextlib.suppress(KafkaError, OSError):
        await admin.start()
        await admin.delete_topics([topic])
    with contextlib.suppress(KafkaError, OSError):
        await admin.close()
