"""The one produce helper of the tests: publish envelopes or raw bytes to a topic, as a Lindung
service, a regency system or BPJS would (a plain aiokafka producer, signed when asked)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from libs.events.envelope import Envelope
from libs.events.signing import Signer

# A record's key: text (sent as UTF-8), bytes, or none at all.
Key = str | bytes | None


async def produce(
    bootstrap: str,
    topic: str,
    messages: Iterable[tuple[Key, Envelope | bytes]],
    *,
    signer: Signer | None = None,
    headers: Sequence[tuple[str, bytes]] = (),
    in_flight: bool = False,
    **options: Any,
) -> list[RecordMetadata]:
    """Publish (key, envelope or bytes) messages to `topic` in order; return where each landed.

    `signer` signs each message's bytes (the headers a signing producer adds); `headers` go on
    every message as given (a signature over other bytes, a forged one). Each send is
    acknowledged before the next, or with `in_flight` all are sent and then awaited (fast for
    many). `options` go to AIOKafkaProducer (linger_ms, max_request_size, security settings)."""
    records = ((topic, key, message) for key, message in messages)
    return await produce_records(
        bootstrap, records, signer=signer, headers=headers, in_flight=in_flight, **options
    )


async def produce_records(
    bootstrap: str,
    records: Iterable[tuple[str, Key, Envelope | bytes]],
    *,
    signer: Signer | None = None,
    headers: Sequence[tuple[str, bytes]] = (),
    in_flight: bool = False,
    **options: Any,
) -> list[RecordMetadata]:
    """`produce` for (topic, key, envelope or bytes) records bound for several topics, in order."""
    options.setdefault("bootstrap_servers", bootstrap)
    producer = AIOKafkaProducer(**options)
    await producer.start()
    try:
        landed: list[RecordMetadata] = []
        pending = []
        for topic, key, message in records:
            value = message.to_bytes() if isinstance(message, Envelope) else message
            signed = [*headers, *(signer.headers(value) if signer else [])] or None
            record_key = key.encode() if isinstance(key, str) else key
            if in_flight:
                pending.append(await producer.send(topic, value, key=record_key, headers=signed))
            else:
                landed.append(await producer.send_and_wait(topic, value, key=record_key, headers=signed))
        if pending:
            await producer.flush()
            landed += await asyncio.gather(*pending)
        return landed
    finally:
        await producer.stop()
