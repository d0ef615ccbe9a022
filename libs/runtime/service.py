"""One service process: HTTP (FastAPI), its consumer (faststream), its outbox relay, its database.

Each service describes itself with a ServiceDefinition (libs/runtime/definition.py); `create_app`
wires the rest the same way for all of them, so a reader who knows one service knows all four.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from libs.audit.checkpoint_store import scheduled_checkpoints
from libs.db import make_engine
from libs.events.signing import load_keyring, load_signer
from libs.events.topics import dead_letter_topic
from libs.eventstore.kit import StreamKit
from libs.eventstore.store import EventStore
from libs.messaging.connection import KafkaConnection
from libs.messaging.consumer import InboxConsumer
from libs.messaging.kafka import make_producer, topic_configs_of
from libs.messaging.relay import OutboxRelay
from libs.privacy.retention import scheduled_pruning
from libs.privacy.vault import vault_of
from libs.runtime.body_limit import BodyLimit
from libs.runtime.definition import (
    Runtime,
    ServiceDefinition,
    application_of,
    runtime_of,
    stream_store_of,
)
from libs.runtime.heap import glibc_heap, scheduled_trimming
from libs.runtime.operations import add_operational_routes, add_outage_handler
from libs.runtime.production import ProductionRefused, check_start, open_warning
from libs.settings import get_settings

# What services, tests and tools import from here (the definition and the runtime live in
# libs/runtime/definition.py).
__all__ = [
    "Runtime",
    "ServiceDefinition",
    "application_of",
    "body_limit_of",
    "create_app",
    "runtime_of",
    "serve",
    "stream_store_of",
]

log = logging.getLogger(__name__)

# How long a stopping service waits for its relay to stamp `sent_at` on what it sent.
RELAY_STOP_S = 2.0


async def _start_producer(producer: AIOKafkaProducer) -> None:
    delay = 0.2
    for _ in range(50):
        try:
            await producer.start()
            return
        except KafkaError as exc:
            log.warning("broker not reachable yet (%s); retrying", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)
    await producer.start()


def _subscribe(rt: Runtime, consumer: InboxConsumer) -> KafkaBroker:
    definition, settings = rt.definition, rt.settings
    connection = KafkaConnection.from_settings(settings)
    broker = KafkaBroker(connection.bootstrap, security=connection.faststream_security(), logger=None)

    # One subscriber for every topic: each subscriber joins the group separately, slowly.
    @broker.subscriber(
        *definition.consumes,
        group_id=definition.name,
        batch=True,
        max_records=settings.consumer_batch_size,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        title=f"{definition.name}-consumer",
    )
    async def on_batch(msg: KafkaMessage) -> None:
        raw = msg.raw_message
        await consumer.handle_records(raw if isinstance(raw, tuple) else (raw,))

    return broker


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    definition: ServiceDefinition = app.state.definition
    settings = get_settings()
    # Closed by default, however the app was started (serve() already said why, and exited).
    check_start(settings, definition.name)
    if not settings.database_url or not settings.kafka_bootstrap_servers:
        raise RuntimeError("DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS must be set")
    engine = make_engine(settings.database_url)
    # Personal fields sealed per person when a master key is set (docs/security.md).
    vault = vault_of(settings)
    store = EventStore(definition.tables, definition.name, definition.projector, vault)
    # Signed events (docs/security.md): what this service sends is signed, what it reads verified.
    signer = load_signer(settings.event_signing_key_file, settings.event_signing_key_id)
    keyring = load_keyring(settings.event_keyring_file)
    if keyring is None:
        log.warning("no keyring (LINDUNG_EVENT_KEYRING_FILE): signatures of events are not checked")
    producer = make_producer(settings)
    await _start_producer(producer)
    relay = OutboxRelay(
        engine,
        definition.tables,
        producer,
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_ms / 1000,
        republish_on_start=settings.republish_on_start,
        topic_partitions=settings.topic_partitions,
        topic_configs=topic_configs_of(settings),
        connection=KafkaConnection.from_settings(settings),
        signer=signer,
        vault=vault,
    )
    rt = Runtime(definition, settings, engine, store, producer, relay)
    rt.kit = StreamKit(stream_store_of(definition, engine, vault), after_commit=relay.wake)
    relaying = asyncio.create_task(relay.run(), name=f"{definition.name}-relay")
    rt.tasks.append(relaying)
    if definition.handler is not None and definition.consumes:
        rt.consumer = InboxConsumer(
            rt.kit.store,
            definition.handler,
            group=definition.name,
            dead_letter_topic=dead_letter_topic(definition.name),
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_s=settings.consumer_retry_backoff_ms / 1000,
            on_commit=relay.wake,
            keyring=keyring,
            bpjs_producers=settings.bpjs_producers,
        )
        rt.broker = _subscribe(rt, rt.consumer)
        await rt.broker.start()
    for start in definition.background:
        rt.tasks.append(asyncio.create_task(start(rt)))
    checkpoints = scheduled_checkpoints(rt)  # signed heads of the store, outside the database
    if checkpoints is not None:
        rt.tasks.append(asyncio.create_task(checkpoints, name=f"{definition.name}-checkpoints"))
    pruning = scheduled_pruning(rt)  # sent outbox rows after their retention
    if pruning is not None:
        rt.tasks.append(asyncio.create_task(pruning, name=f"{definition.name}-pruning"))
    trimming = scheduled_trimming(
        definition.name, settings.heap_trim_interval_s, settings.heap_trim_min_free_mib, glibc_heap()
    )
    if trimming is not None:  # freed C heap back to the system after a busy spell
        rt.tasks.append(asyncio.create_task(trimming, name=f"{definition.name}-heap-trim"))
    app.state.runtime = rt
    log.info("%s ready on schema %s", definition.name, definition.tables.schema)
    try:
        yield
    finally:
        if rt.broker is not None:
            await rt.broker.stop()
        relay.stop()
        # Let the relay stamp what it sent (sent_at) before it is cancelled: what it sent and
        # did not stamp goes again at the next start.
        await asyncio.wait([relaying], timeout=RELAY_STOP_S)
        for task in rt.tasks:
            task.cancel()
        await asyncio.gather(*rt.tasks, return_exceptions=True)
        await producer.stop()
        await engine.dispose()


def create_app(definition: ServiceDefinition) -> FastAPI:
    """The FastAPI application of one service, with its consumer and relay in its lifespan."""
    app = FastAPI(
        title=definition.title or f"Lindung {definition.name}",
        version="1.0.0",
        lifespan=_lifespan,
    )
    app.state.definition = definition
    add_outage_handler(app)
    for kind, handler in definition.exception_handlers.items():
        app.add_exception_handler(kind, handler)
    add_operational_routes(app)
    app.include_router(definition.router)
    app.add_middleware(BodyLimit, limit=body_limit_of)
    return app


def body_limit_of(scope: Any) -> int:
    """The body limit of the service answering: its runtime's settings once started."""
    runtime = getattr(scope["app"].state, "runtime", None)
    settings = runtime.settings if isinstance(runtime, Runtime) else get_settings()
    return settings.http_max_body_bytes


def serve(definition: ServiceDefinition) -> None:
    """Run one service until SIGINT/SIGTERM (used by `python -m services.<name>`)."""
    import uvicorn

    from libs.runtime.logs import configure_logging

    settings = get_settings()
    configure_logging(definition.name, settings.log_level)
    # Before any port is bound: outside development mode nothing runs open.
    try:
        still_open = check_start(settings, definition.name)
    except ProductionRefused as refused:
        print(refused, file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if still_open:
        log.warning(open_warning(definition.name, still_open))
    uvicorn.run(
        create_app(definition),
        host=settings.http_host,
        port=settings.port_for(definition.name),
        log_config=None,
        access_log=False,
    )
