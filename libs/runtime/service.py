"""One service process: HTTP (FastAPI), its consumer (faststream), its outbox relay, its database.

Each service describes itself with a ServiceDefinition; `create_app` wires the rest the same
way for all of them, so a reader who knows one service knows all four.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.audit.checkpoint_store import scheduled_checkpoints
from libs.db import make_engine
from libs.events.envelope import Envelope
from libs.events.signing import load_keyring, load_signer
from libs.events.topics import dead_letter_topic
from libs.eventstore.kit import StreamKit
from libs.eventstore.postgres import BatchProjector, PostgresStore
from libs.eventstore.store import EventStore, Projector, no_projection
from libs.eventstore.tables import EventStoreTables
from libs.messaging.connection import KafkaConnection
from libs.messaging.consumer import EventHandler, InboxConsumer, is_outage
from libs.messaging.kafka import make_producer
from libs.messaging.relay import OutboxRelay
from libs.privacy.retention import scheduled_pruning
from libs.privacy.vault import KeyVault, vault_of
from libs.runtime.body_limit import BodyLimit
from libs.runtime.production import ProductionRefused, check_start, open_warning
from libs.settings import Settings, get_settings

log = logging.getLogger(__name__)

A = TypeVar("A")


@dataclass
class ServiceDefinition:
    """What makes one service different from the others."""

    name: str
    tables: EventStoreTables
    router: APIRouter
    projector: Projector = no_projection
    # The same projection over a whole appended batch (one statement per table); without one, the
    # kit's store runs `projector` event by event.
    batch_projector: BatchProjector | None = None
    # Read-model effects of consumed events (no decision, no new event): audits replay the inbox
    # through it, as the handler does live.
    consumed_projector: Projector = no_projection
    handler: EventHandler | None = None
    consumes: tuple[str, ...] = ()
    title: str = ""
    # Extra background work of the service (e.g. the simulator's clock), started with it.
    background: list[Callable[[Runtime], Any]] = field(default_factory=list)
    # The service's application layer as its composition root (services/<name>/bootstrap.py)
    # built it from settings, clock and policies; routes reach it with `application_of`.
    application: object | None = None
    # The service's own answers to exceptions (e.g. the registry's to an unreadable request).
    exception_handlers: dict[type[Exception], Callable[..., Any]] = field(default_factory=dict)


@dataclass
class Runtime:
    """The live parts of a running service, reachable from request handlers."""

    definition: ServiceDefinition
    settings: Settings
    engine: AsyncEngine
    store: EventStore
    producer: AIOKafkaProducer
    relay: OutboxRelay
    # The stream kit on this service's store (libs/eventstore/kit.py): what HTTP commands run on.
    kit: StreamKit | None = None
    consumer: InboxConsumer | None = None
    broker: KafkaBroker | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def assigned_partitions(self) -> int:
        if self.broker is None:
            return 0
        total = 0
        for sub in self.broker.subscribers:
            consumer = getattr(sub, "consumer", None)
            if consumer is not None:
                total += len(consumer.assignment())
        return total


def runtime_of(request: Request) -> Runtime:
    """The Runtime of the service answering `request` (a FastAPI dependency)."""
    rt: Runtime = request.app.state.runtime
    return rt


def application_of(request: Request, kind: type[A]) -> A:
    """The application layer of the service answering `request`, as its bootstrap built it."""
    found = runtime_of(request).definition.application
    if not isinstance(found, kind):
        raise TypeError(f"the service's application is {type(found).__name__}, not {kind.__name__}")
    return found


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
        connection=KafkaConnection.from_settings(settings),
        signer=signer,
        vault=vault,
    )
    rt = Runtime(definition, settings, engine, store, producer, relay)
    rt.kit = StreamKit(stream_store_of(definition, engine, vault), after_commit=relay.wake)
    rt.tasks.append(asyncio.create_task(relay.run(), name=f"{definition.name}-relay"))
    if definition.handler is not None and definition.consumes:
        rt.consumer = InboxConsumer(
            engine,
            definition.tables,
            store,
            definition.handler,
            stream_store=rt.kit.store if isinstance(rt.kit.store, PostgresStore) else None,
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
    app.state.runtime = rt
    log.info("%s ready on schema %s", definition.name, definition.tables.schema)
    try:
        yield
    finally:
        if rt.broker is not None:
            await rt.broker.stop()
        relay.stop()
        for task in rt.tasks:
            task.cancel()
        await asyncio.gather(*rt.tasks, return_exceptions=True)
        await producer.stop()
        await engine.dispose()


def stream_store_of(
    definition: ServiceDefinition, engine: AsyncEngine, vault: KeyVault | None
) -> PostgresStore:
    """The kit's store of a service: its schema, its projection (batched where it has one)."""
    project = definition.batch_projector
    if project is None:
        one_by_one = definition.projector

        async def project_each(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
            for envelope in envelopes:
                await one_by_one(conn, envelope)

        project = project_each
    return PostgresStore(engine, definition.tables, definition.name, project=project, vault=vault)


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"])
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the database answers and the consumer holds its partitions."""
        rt = runtime_of(request)
        checks: dict[str, Any] = {}
        try:
            async with rt.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"down: {type(exc).__name__}"
        if rt.broker is not None:
            partitions = rt.assigned_partitions()
            checks["partitions"] = partitions
            checks["consumer"] = "ok" if partitions > 0 else "joining"
        ok = checks["database"] == "ok" and checks.get("consumer", "ok") == "ok"
        return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)

    @app.get("/stats", tags=["operations"])
    async def stats(request: Request) -> dict[str, Any]:
        """Event counts, inbox, outbox and dead letters of this service."""
        rt = runtime_of(request)
        t = rt.definition.tables
        async with rt.engine.connect() as conn:
            counts = {
                name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
                for name, table in (
                    ("events", t.events),
                    ("inbox", t.inbox),
                    ("dead_letters", t.dead_letters),
                )
            }
        counts["outbox_unsent"] = await rt.relay.unsent()
        counts["published"] = rt.relay.published
        if rt.consumer is not None:
            counts["applied"] = rt.consumer.applied
            counts["duplicates"] = rt.consumer.duplicates
            counts["parked"] = rt.consumer.parked
        return {"service": rt.definition.name, **counts}


def _add_outage_handler(app: FastAPI) -> None:
    # A request that meets a database restart (or a connection it broke) is not the caller's
    # fault and not a bug: 503 with Retry-After, as for any outage.
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and str(getattr(exc.orig, "sqlstate", "")).startswith("22"):
            # SQLSTATE class 22 (data exception): a value of the request PostgreSQL cannot take,
            # e.g. a NUL character in a text or an integer beyond 64 bits. The caller's fault.
            return JSONResponse(
                {
                    "code": "REQUEST_VALUE_INVALID",
                    "message": "Permintaan berisi nilai yang tidak dapat diproses (misalnya karakter "
                    "NUL atau angka yang terlalu besar); periksa kembali isian Anda.",
                },
                status_code=422,
            )
        if not is_outage(exc):
            raise exc
        path = request.url.path
        log.warning("database unavailable during %s %s: %s", request.method, path, type(exc).__name__)
        return JSONResponse(
            {
                "code": "DATABASE_UNAVAILABLE",
                "message": "Basis data sedang tidak dapat dihubungi; silakan coba lagi sebentar lagi.",
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )

    for kind in (DBAPIError, OSError):
        app.add_exception_handler(kind, database_unavailable)


def create_app(definition: ServiceDefinition) -> FastAPI:
    """The FastAPI application of one service, with its consumer and relay in its lifespan."""
    app = FastAPI(
        title=definition.title or f"Lindung {definition.name}",
        version="1.0.0",
        lifespan=_lifespan,
    )
    app.state.definition = definition
    _add_outage_handler(app)
    for kind, handler in definition.exception_handlers.items():
        app.add_exception_handler(kind, handler)
    _add_operational_routes(app)
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
