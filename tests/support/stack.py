"""The one stack helper of the tests: services in-process, through their real lifespans, on a
fresh database with their schemas migrated, over the package's broker with their topics made
(`in_process_stack`); its parts for the tests that need only one: `fresh_database`, `kept_env`.

One stack per test package (its fixture package-scoped and registered in the package's
conftest): two stacks on one broker would share the services' consumer groups."""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events import topics
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS, upgrade, upgrade_all
from libs.runtime.service import Runtime, ServiceDefinition, create_app
from libs.settings import get_settings
from tests.infra import Infra, create_database, drop_database
from tests.running import running, use_env


def definition_of(service: str) -> ServiceDefinition:
    """The service's definition as its entrypoint builds it (settings read now)."""
    module = importlib.import_module(f"services.{service}.entrypoints.app")
    definition: ServiceDefinition = module.definition()
    return definition


def topics_of(services: Iterable[str]) -> list[str]:
    """The topics `services` read or write (the simulator writes BPJS's), and their dead-letter
    topics: what a stack of only these services needs."""
    wanted = set(services)
    names = []
    for spec in topics.TOPICS:
        writes = bool(wanted & set(spec.producers)) or (spec.written_by_bpjs and "bpjs_simulator" in wanted)
        reads = any(spec.name in topics.SUBSCRIPTIONS.get(service, ()) for service in wanted)
        if writes or reads:
            names.append(spec.name)
    return names + [topics.dead_letter_topic(group) for group in topics.CONSUMER_GROUPS if group in wanted]


@asynccontextmanager
async def fresh_database(
    infra: Infra, prefix: str, schemas: Iterable[str] | None = None
) -> AsyncIterator[str]:
    """A new database on the test server, its URL; dropped on exit. `schemas` are the services
    whose schemas are migrated (None: the key vault's and every service's)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = await create_database(infra.server_url, name)
    try:
        if schemas is None:
            await asyncio.to_thread(upgrade_all, url)
        for service in schemas or ():
            await asyncio.to_thread(upgrade, service, url)
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
        self,
        service: str,
        headers: Mapping[str, str] | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 60,
    ) -> httpx.AsyncClient:
        """An HTTP client over `service`'s routes, in-process (at http://<service> by default)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.apps[service]),
            base_url=base_url or f"http://{service}",
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
    schemas: Iterable[str] | None = None,
    topic_names: Iterable[str] | None = None,
    env_of: Callable[[str], Mapping[str, str]] | None = None,
) -> AsyncIterator[InProcess]:
    """`services` (names, or name -> a function making its definition) running in-process,
    started in order, on a fresh database (prefix `prefix`) with the schemas of `schemas`
    migrated (None: every service's and the key vault's) and `topic_names` made (None: every
    topic; for a stack of a few services, `topics_of(services)`).

    The settings point at the servers (`use_env`), with `env` over them and
    LINDUNG_TOPIC_PARTITIONS=`partitions` (None: the settings' default); `env_of(service)`, when
    given, is each service's own settings (its key), set before it starts. On exit the services
    stop, the database is dropped and os.environ is as before."""
    with kept_env():
        async with fresh_database(infra, prefix, schemas) as url:
            extra = dict(env or {})
            if partitions is not None:
                extra["LINDUNG_TOPIC_PARTITIONS"] = str(partitions)
            use_env(url, infra.bootstrap, **extra)
            partitions_now = get_settings().topic_partitions
            made = topics.all_topic_names() if topic_names is None else list(topic_names)
            await ensure_topics(infra.bootstrap, made, partitions=partitions_now)
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


def partial_stack(
    infra: Infra,
    services: Mapping[str, Callable[[], ServiceDefinition]],
    *,
    prefix: str = "lindung_t",
    env: Mapping[str, str] | None = None,
) -> AbstractAsyncContextManager[InProcess]:
    """`in_process_stack` of a few services alone: only their schemas and the topics they read
    and write, partitioned as the settings say."""
    return in_process_stack(
        infra,
        prefix,
        services,
        partitions=None,
        env=env,
        schemas=list(services),
        topic_names=topics_of(services),
    )
