"""The processes of one `lindung up` on one machine (`Stack`): embedded PostgreSQL and broker
unless the settings point elsewhere, topics, schemas, database roles, development keys, and a
process per service instance with the environment it runs in.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.markup import escape

from libs.clock import set_business_now
from libs.events.topics import all_topic_names
from libs.messaging.connection import KafkaConnection
from libs.messaging.kafka import ensure_topics, topic_configs_of, wait_for_broker
from libs.runtime.migrate import upgrade_all
from libs.service_names import SERVICES
from libs.settings import Settings
from lindung_cli.embedded import EmbeddedPostgres, TansuBroker
from lindung_cli.kafka_broker import KAFKA_DIR, ApacheKafkaBroker, kafka_jars
from lindung_cli.runtime_file import runtime_path, write_runtime
from lindung_cli.service_processes import (
    COLOURS,
    Child,
    _die_with_parent,
    instance_port,
    pump_output,
    stop_children,
    wait_ready,
    watch,
)

WIB = timezone(timedelta(hours=7), "WIB")  # the demo's calendar day is a day in Sumatra
# Apache Kafka's default lowest consumer-group session; a stack configured with shorter sessions
# (the tests' 2 s) gets a node that accepts them.
KAFKA_MIN_SESSION_MS = 6000


def kafka_version(lib: Path) -> str:
    """The Apache Kafka version of the resolved jars (kafka_2.13-<version>.jar)."""
    jar = next(lib.glob("kafka_2.13-*.jar"))
    return jar.stem.removeprefix("kafka_2.13-")


@dataclass
class Stack:
    """The processes of one `lindung up`."""

    settings: Settings
    scale: dict[str, int] = field(default_factory=dict)
    console: Console = field(default_factory=Console)
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | ApacheKafkaBroker | None = None
    children: list[Child] = field(default_factory=list)
    database_url: str = ""
    # The URL each service connects with as its own role (libs/eventstore/roles.py); a service
    # not here uses `database_url` (DATABASE_URL given without LINDUNG_DATABASE_OWNER_URL).
    service_urls: dict[str, str] = field(default_factory=dict)
    # The development privacy master key (<data_dir>/keys), or None when the settings give one.
    privacy_master_key: str | None = None
    # Development event keys (<data_dir>/keys): the keyring file, or None when the settings name one.
    keyring_file: Path | None = None
    bootstrap: str = ""
    # Seconds from launching the embedded broker to its answering metadata.
    broker_start_s: float = 0.0
    # The embedded broker holds nothing from an earlier run (Tansu always; Apache Kafka when its
    # storage was formatted now): services re-send their stored events.
    broker_is_new: bool = False
    kafka_lib: Path | None = None
    # The demo's simulated calendar (libs/clock.py) once its programme year is over, else None.
    calendar_file: Path | None = None

    @property
    def broker_kind(self) -> str:
        """ "tansu" or "kafka" (embedded), or "external" (KAFKA_BOOTSTRAP_SERVERS)."""
        return "external" if self.settings.kafka_bootstrap_servers else self.settings.broker

    def check_broker(self) -> None:
        """Before anything starts: Apache Kafka's jars (resolved once), or KafkaUnavailable saying
        that Java or Maven is missing."""
        if self.broker_kind == "kafka" and self.kafka_lib is None:
            if not any((KAFKA_DIR / "target" / "lib").glob("kafka_2.13-*.jar")):
                # A minute or so, once: not a hang.
                self.console.print("[bold]Fetching Apache Kafka's jars with Maven[/] (once)...")
            self.kafka_lib = kafka_jars()

    def connection(self) -> KafkaConnection:
        """How this process reaches the broker (an external one may be secured)."""
        return KafkaConnection.from_settings(self.settings, bootstrap=self.bootstrap)

    def start_servers(self) -> None:
        data = Path(self.settings.data_dir).resolve()
        # The directory actually used, absolute: a relative LINDUNG_DATA_DIR depends on where the
        # command was started, and an officer looking for the logs needs the real place.
        self.console.print(f"[bold]Data directory[/]: {escape(str(data))}", highlight=False)
        if self.settings.database_owner_url or self.settings.database_url:
            self.database_url = self.settings.database_owner_url or self.settings.database_url or ""
        else:
            where = escape(str(data / "postgres"))
            self.console.print(f"[bold]Starting embedded PostgreSQL[/] (data in {where})", highlight=False)
            self.postgres = EmbeddedPostgres(data / "postgres").start()
            self.database_url = self.postgres.url
        if self.settings.kafka_bootstrap_servers:
            self.bootstrap = self.settings.kafka_bootstrap_servers
            return
        self.broker = self._embedded_broker(data)
        started = time.monotonic()
        # Kept before it is started: a start that fails half-way (or a Ctrl-C) still stops the
        # process, which runs in a session of its own and would outlive us.
        self.broker.start()
        self.broker_start_s = time.monotonic() - started
        self.bootstrap = self.broker.bootstrap

    def _embedded_broker(self, data: Path) -> TansuBroker | ApacheKafkaBroker:
        port = self.settings.embedded_broker_port
        if self.broker_kind != "kafka":
            self.console.print("[bold]Starting embedded Kafka-protocol broker (Tansu)[/]")
            self.broker_is_new = True
            return TansuBroker(port, data / "logs" / "tansu.log")
        self.check_broker()
        assert self.kafka_lib is not None
        kafka = ApacheKafkaBroker(
            data / "kafka",
            port,
            log_path=data / "logs" / "kafka.log",
            extra_properties={
                "group.min.session.timeout.ms": str(
                    min(KAFKA_MIN_SESSION_MS, self.settings.kafka_session_timeout_ms)
                )
            },
        )
        self.broker_is_new = not kafka.cluster_id
        where = escape(str(kafka.data_dir))
        self.console.print(
            f"[bold]Starting Apache Kafka {kafka_version(self.kafka_lib)}[/] (KRaft, data in {where})",
            highlight=False,
        )
        return kafka

    def prepare(self) -> None:
        """Topics and schemas, before any service starts."""

        async def topics() -> None:
            await wait_for_broker(self.connection())
            await ensure_topics(
                self.connection(),
                all_topic_names(),
                self.settings.topic_partitions,
                self.settings.topic_replication,
                configs=topic_configs_of(self.settings),
            )

        asyncio.run(topics())
        upgrade_all(self.database_url)
        self.event_keys()
        self.privacy_key()
        if self.postgres is not None or self.settings.database_owner_url:
            self.service_urls = self.database_roles()

    def database_roles(self) -> dict[str, str]:
        """A role per service with a new password (handed to it in its environment only): it may
        INSERT and SELECT its events, never UPDATE, DELETE or TRUNCATE them."""
        from libs.eventstore.roles import AUDITOR, create_logins, login_url

        prefix = self.settings.database_role_prefix
        logins = asyncio.run(create_logins(self.database_url, prefix, SERVICES))
        self.console.print(
            f"[bold]Database roles[/]: each service connects as {prefix}<service> (its events: INSERT and "
            f"SELECT only); the auditor's role is {logins[AUDITOR].role} (SELECT only)",
            highlight=False,
        )
        return {who: login_url(self.database_url, login) for who, login in logins.items() if who != AUDITOR}

    def event_keys(self) -> None:
        """Development keys, made once under <data_dir>/keys: one per service, BPJS's gateway and
        every regency system (benchmarks and integrators sign with them), so the stack runs the
        production path, signed and verified (docs/security.md, "Signed events")."""
        if self.settings.event_keyring_file:
            return  # the operator's own keys (LINDUNG_EVENT_* in the environment)
        from libs.events.signing import dev_keys
        from libs.events.topics import BPJS_GATEWAY, REGENCY_SYSTEM
        from lindung_cli.kafka_acls import regency_codes

        regencies = [REGENCY_SYSTEM.format(regency_code=code) for code in regency_codes()]
        folder = Path(self.settings.data_dir).resolve() / "keys"
        self.keyring_file = dev_keys(folder, [*SERVICES, BPJS_GATEWAY, *regencies])

    def privacy_key(self) -> None:
        """The development privacy master key, made once under <data_dir>/keys: personal fields
        are sealed per person, as in production (docs/security.md, "Forgetting a person")."""
        if self.settings.privacy_master_key is not None:
            return  # the operator's own (LINDUNG_PRIVACY_MASTER_KEY in the environment)
        from libs.privacy.vault import dev_master_key

        self.privacy_master_key = dev_master_key(Path(self.settings.data_dir).resolve() / "keys").text()

    def signing_env(self, service: str) -> dict[str, str]:
        """The event-signing settings of `service`: its development key and the keyring."""
        if self.keyring_file is None:
            return {}
        from libs.events.signing import dev_key_id, key_file

        return {
            "LINDUNG_EVENT_SIGNING_KEY_FILE": str(key_file(self.keyring_file.parent, dev_key_id(service))),
            "LINDUNG_EVENT_SIGNING_KEY_ID": dev_key_id(service),
            "LINDUNG_EVENT_KEYRING_FILE": str(self.keyring_file),
        }

    def demo_calendar(self, today: date) -> date | None:
        """Run the demo on a calendar in its programme year when `today` is outside it (and no
        calendar is configured): the day it lives on, written to <data_dir>/demo-calendar.txt."""
        from lindung_cli.demo_programme import demo_day

        day = None if self.settings.business_clock_file else demo_day(today)
        if day is None:
            return None
        self.calendar_file = Path(self.settings.data_dir).resolve() / "demo-calendar.txt"
        self.calendar_file.parent.mkdir(parents=True, exist_ok=True)
        set_business_now(self.calendar_file, datetime(day.year, day.month, day.day, 9, tzinfo=WIB))
        return day

    def spawn_all(self) -> None:
        for position, service in enumerate(SERVICES):
            if importlib.util.find_spec(f"services.{service}.__main__") is None:
                continue
            for index in range(self.scale.get(service, 1)):
                self.children.append(self._spawn(service, index, COLOURS[position % len(COLOURS)]))

    def service_env(self, port: int, service: str | None = None) -> dict[str, str]:
        """The environment of a service process listening on `port`."""
        env = {
            **os.environ,
            "DATABASE_URL": self.service_urls.get(service or "", self.database_url),
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "LINDUNG_HTTP_PORT": str(port),
            # A broker that holds nothing from before (Tansu is in memory): services re-send
            # their stored events (inboxes drop repeats). Apache Kafka keeps them on disk.
            "LINDUNG_REPUBLISH_ON_START": "true" if self.broker_is_new else "false",
            # One machine, a developer's or a demo's: services may run without API keys, event
            # keys or a pepper of their own (libs/runtime/production.py; said at start).
            "LINDUNG_DEV_MODE": "true",
            # The simulator plays BPJS here (never by default: libs/events/topics.py).
            "LINDUNG_BPJS_PRODUCERS": os.environ.get("LINDUNG_BPJS_PRODUCERS", '["bpjs", "bpjs_simulator"]'),
            "PYTHONUNBUFFERED": "1",
            # Two glibc malloc arenas, not 8 per core: fewer heaps to keep freed batches in
            # (docs/architecture.md "Memory on a long run").
            "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
            **(self.signing_env(service) if service else {}),
            **({"LINDUNG_PRIVACY_MASTER_KEY": self.privacy_master_key} if self.privacy_master_key else {}),
            **({"LINDUNG_BUSINESS_CLOCK_FILE": str(self.calendar_file)} if self.calendar_file else {}),
        }
        if isinstance(self.broker, ApacheKafkaBroker):
            env["LINDUNG_KAFKA_IDEMPOTENCE"] = "true"
        return env

    def _spawn(self, service: str, index: int, colour: str) -> Child:
        port = instance_port(service, index, self.settings.port_offset)
        process = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            env=self.service_env(port, service),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
            # Out of the terminal's process group: Ctrl-C reaches `lindung up` alone, which stops
            # the services in order (SIGTERM); a service interrupted on its own would die with a
            # KeyboardInterrupt traceback and look like a crash to `watch`.
            start_new_session=True,
        )
        label = service if index == 0 else f"{service}#{index + 1}"
        pump = threading.Thread(target=self._pump, args=(label, colour, process.stdout), daemon=True)
        pump.start()
        return Child(service, index, port, process, pump)

    def _pump(self, label: str, colour: str, stream: IO[bytes] | None) -> None:
        pump_output(self.console, label, colour, stream)

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Until every service answers /ready (RuntimeError when one exits first)."""
        wait_ready(self.children, timeout_s)

    def write_runtime(self) -> None:
        write_runtime(
            self.settings.data_dir,
            {
                "database_url": self.database_url,
                "kafka_bootstrap_servers": self.bootstrap,
                "broker": self.broker_kind,
                "broker_start_s": round(self.broker_start_s, 2),
                "services": {c.label: f"http://127.0.0.1:{c.port}" for c in self.children},
                # Development event keys: benchmarks sign their nominations with them.
                "event_keys": str(self.keyring_file.parent) if self.keyring_file else None,
                "pid": os.getpid(),
            },
        )

    def stop(self) -> None:
        """The services, then the broker (they commit offsets on the way out), then PostgreSQL;
        each even when an earlier step failed."""
        try:
            stop_children(self.children)
        finally:
            try:
                if self.broker:
                    self.broker.stop()
            finally:
                if self.postgres:
                    self.postgres.stop()
                runtime_path(self.settings.data_dir).unlink(missing_ok=True)

    def watch(self) -> None:
        """Block until a signal arrives or a child dies."""
        watch(self.children)
