"""Running a service in-process for integration tests, through its real lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from libs.runtime.service import Runtime, ServiceDefinition, create_app
from libs.settings import get_settings
from tests.conftest import TEST_ENV

# The environment as the session found it: every use_env starts from it, so one package's
# settings (say, a tiny consumer batch) never leak into the next package's services.
_SESSION_ENV = dict(os.environ)


def process_env() -> dict[str, str]:
    """The environment for a Lindung process a test starts (`lindung up`, a service): the
    session's, without the servers an earlier test pointed this process at (under xdist a worker
    runs integration folders before end-to-end ones)."""
    env = dict(_SESSION_ENV)
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    # A service started without keys outside development mode refuses to start.
    env["LINDUNG_DEV_MODE"] = "true"
    env["LINDUNG_BUSINESS_CLOCK_FILE"] = TEST_ENV["LINDUNG_BUSINESS_CLOCK_FILE"]
    # No signed checkpoints into <data_dir>/checkpoints of the working tree (`lindung up` tests
    # give a data directory of their own and may turn them on).
    env["LINDUNG_AUDIT_CHECKPOINT_INTERVAL_S"] = "0"
    return env


def use_env(database_url: str, bootstrap: str, **extra: str) -> None:
    """Point the settings of in-process services at the test servers (and nothing else)."""
    os.environ.clear()
    os.environ.update(_SESSION_ENV)
    os.environ.update(TEST_ENV)
    # No signed checkpoints from test services (they would land in <data_dir>/checkpoints),
    # unless a test asks for them (tests/integration/tamper_anchor).
    os.environ["LINDUNG_AUDIT_CHECKPOINT_INTERVAL_S"] = "0"
    os.environ["DATABASE_URL"] = database_url
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    os.environ.update(extra)
    get_settings.cache_clear()


@contextlib.contextmanager
def _start_env(env: dict[str, str] | None) -> Iterator[None]:
    """`env` over os.environ while a service starts (it reads its settings then), then back."""
    if not env:
        yield
        return
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@asynccontextmanager
async def running(
    definition: ServiceDefinition,
    *,
    ready_timeout_s: float = 30.0,
    start_timeout_s: float = 180.0,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Runtime]:
    """Start the service (consumer, relay) and wait until it holds its partitions.

    The start itself is bounded too: a consumer group that never settles keeps faststream's
    start waiting, and a test should fail with a reason rather than hang the suite. `env` is
    this service's own settings (its database role, its signing key), read at its start: start
    such services one after the other."""
    app = create_app(definition)
    async with contextlib.AsyncExitStack() as started:
        try:
            with _start_env(env):
                await asyncio.wait_for(
                    started.enter_async_context(app.router.lifespan_context(app)), start_timeout_s
                )
        except TimeoutError as exc:
            raise TimeoutError(f"{definition.name} did not start within {start_timeout_s:.0f} s") from exc
        rt: Runtime = app.state.runtime
        deadline = asyncio.get_running_loop().time() + ready_timeout_s
        while rt.broker is not None and rt.assigned_partitions() == 0:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{definition.name} did not join its consumer group")
            await asyncio.sleep(0.1)
        yield rt


@asynccontextmanager
async def serving_http(
    definition: ServiceDefinition, name: str
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """The service running (see :func:`running`) and an HTTP client over its routes, in-process."""
    async with running(definition) as rt:
        app = create_app(definition)
        app.state.runtime = rt
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}", timeout=60) as http:
            yield rt, http


async def eventually(check, timeout_s: float = 20.0, interval_s: float = 0.1):  # type: ignore[no-untyped-def]
    """Await `check()` until it returns a truthy value; return it, or fail after the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s (last value: {last!r})")


async def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 15.0) -> list:  # type: ignore[type-arg]
    """Read at least `expected` records of `topic` from the beginning (no group)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for recs in batch.values():
                records.extend(recs)
    finally:
        await consumer.stop()
    return records


async def read_matching(
    bootstrap: str, topic: str, keep: Any, expected: int, timeout_s: float = 20.0
) -> list[Any]:
    """Records of `topic` (from the beginning, no group) for which `keep(record)` holds, once
    `expected` of them are there or the timeout has passed (the topic may hold other runs' records).
    Fetch limits take messages up to 16 MiB (the fuzz tests' oversized ones)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found += [r for r in records if keep(r)]
    finally:
        await consumer.stop()
    return found
