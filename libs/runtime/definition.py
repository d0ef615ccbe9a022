"""What a service is (ServiceDefinition) and what runs of it (Runtime), as routes reach them.

Each service describes itself with a ServiceDefinition (libs/runtime/service.py wires the rest
the same way for all of them); a running service's live parts are its Runtime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Request
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.envelope import Envelope
from libs.eventstore.kit import StreamKit
from libs.eventstore.postgres import BatchProjector, PostgresStore
from libs.eventstore.store import EventStore, Projector, no_projection
from libs.eventstore.tables import EventStoreTables
from libs.messaging.consumer import InboxConsumer, Reactor
from libs.messaging.relay import OutboxRelay
from libs.privacy.vault import KeyVault
from libs.settings import Settings

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
    # The same over a run of consumed events (one statement per table), for replays in batches
    # (libs/audit/apply.py); without one, audits apply `consumed_projector` one by one.
    consumed_batch_projector: BatchProjector | None = None
    handler: Reactor | None = None
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
