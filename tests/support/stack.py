"""The one stack helper of the tests: services in-process, through their real lifespans, on a
fresh database with every schema migrated, over the package's broker with the shared topics.

One stack per test package (its fixture package-scoped and registered in the package's
conftest): two stacks on one broker would share the services' consumer groups."""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events import topics
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS, upgrade_all
from libs.runtime.service import Runtime, ServiceDefinition, create_app
from libs.settings import get_settings
from tests.infra import Infra, create_database
from tests.integration.audit.support import drop_database
from tests.running import running, use_env


def definition_of(service: str) -> ServiceDefinition:
    """The service's definition as its entrypoint builds it (settings read now)."""
    module = importlib.import_module(f"services.{service}.entrypoints.app")
    definition: ServiceDefinition = module.definition()
    return definition


@asynccontextmanager
async def fresh_database(infra: Infra, prefix: str, *, migrate: bool = True) -> AsyncIterator[str]:
    """A new database on the test server (every schema migrated unless `migrate` is off): its
    URL; dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = await create_database(infra.server_url, name)
    try:
        if migrate:
            await asyncio.to_thread(upgrade_all, url)
        yield url
    finally:
        await drop_database(infra.server_url, name)


@contextmanager
def kept_env() -> Iterator[None]:
    """os.environ back as it was on exit (later packages must not inherit a package's keys,
    clock or partitions), and the settings read again."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


@dataclass
class InProcess:
    """Services running in-process on one database and broker: their apps (routes over the
    running service), runtimes and an engine on the database. `start`/`stop` one at a time."""

    database_url: str
    bootstrap: str
    engine: AsyncEngine
    definitions: dict[str, ServiceDefinition]
    apps: dict[str, FastAPI] = field(default_factory=dict)
    runtimes: dict[str, Runtime] = field(default_factory=dict)
    exits: dict[str, AsyncExitStack] = field(default_factory=dict)

    async def start(self, service: str, env: Mapping[str, str] | None = None) -> Runtime:
        """Start `service` (again); `env` is set in os.environ first and stays (its settings are
        read at start)."""
        if env:
            os.environ.update(env)
            get_settings.cache_clear()
        exits = AsyncExitStack()
        definition = self.definitions[service]
        self.runtimes[service] = await exits.enter_async_context(running(definition))
        self.apps[service] = create_app(definition)
        self.apps[service].state.runtime = self.runtimes[service]  # routes over the running service
        self.exits[service] = exits
        return self.runtimes[service]

    async def stop(self, service: str) -> None:
        """Stop `service` (its consumer, relay and lifespan)."""
        await self.exits.pop(service).aclose()

    async def stop_all(self) -> None:
        """Stop every running service, the last started first."""
        for service in reversed(list(self.exits)):
            await self.stop(service)

    def client(
        self, service: str, headers: Mapping[str, str] | None = None, timeout: float = 60
    ) -> httpx.AsyncClient:
        """An HTTP client over `service`'s routes, in-process."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.apps[service]),
            base_url=f"http://{service}",
            headers=dict(headers or {}),
            timeout=timeout,
        )

    async def call(
        self, service: str, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        """One request to `service`."""
        async with self.client(service, headers) as http:
            return await http.request(method, path, **kw)


@asynccontextmanager
async def in_process_stack(
    infra: Infra,
    prefix: str,
    services: Iterable[str] | Mapping[str, Callable[[], ServiceDefinition]] = SERVICES_WITH_SCHEMAS,
    *,
    partitions: int | None = 2,
    env: Mapping[str, str] | None = None,
    env_of: Callable[[str], Mapping[str, str]] | None = None,
) -> AsyncIterator[InProcess]:
    """`services` (names, or name -> a function making its definition) running in-process,
    started in order, on a fresh database (prefix `prefix`) with every schema migrated and the
    shared topics made.

    The settings point at the servers (`use_env`), with `env` over them and
    LINDUNG_TOPIC_PARTITIONS=`partitions` (None: the settings' default); `env_of(service)`, when
    given, is each service's own settings (its key), set before it starts. On exit the services
    stop, the database is dropped and os.environ is as before."""
    with kept_env():
        async with fresh_database(infra, prefix) as url:
            extra = dict(env or {})
            if partitions is not None:
                extra["LINDUNG_TOPIC_PARTITIONS"] = str(partitions)
            use_env(url, infra.bootstrap, **extra)
            partitions_now = get_settings().topic_partitions
            await ensure_topics(infra.bootstrap, topics.all_topic_names(), partitions=partitions_now)
            engine = make_engine(url)
            if isinstance(services, Mapping):
                definitions = {service: make() for service, make in services.items()}
            else:
                definitions = {service: definition_of(service) for service in services}
            stack = InProcess(url, infra.bootstrap, engine, definitions)
            try:
                for service in definitions:
                    await stack.start(service, env_of(service) if env_of else None)
                yield stack
            finally:
                await stack.stop_all()
                await engine.dispose()
