"""`lindung up`: the whole system on one machine, each service its own process, stopped cleanly.

Embedded PostgreSQL and a broker are started unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS point
elsewhere: Tansu (in memory, no Java) by default, or Apache Kafka with `--broker kafka` /
LINDUNG_BROKER=kafka (one KRaft node, data kept in <data_dir>/kafka across runs). Ctrl-C or SIGTERM
stops every child, then the embedded servers (the broker's JVM too, also after a failed start).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.markup import escape

from libs.clock import set_business_now
from libs.events.topics import all_topic_names
from libs.messaging.connection import KafkaConnection
from libs.messaging.kafka import ensure_topics, topic_configs_of, wait_for_broker
from libs.runtime.migrate import upgrade_all
from libs.settings import SERVICE_PORTS, Settings
from lindung_cli import api
from lindung_cli.embedded import EmbeddedPostgres, TansuBroker
from lindung_cli.kafka_broker import KAFKA_DIR, ApacheKafkaBroker, kafka_jars
from lindung_cli.runtime_file import runtime_path, write_runtime

SERVICES = ("registry", "allocation", "enrollment", "claims", "bpjs_simulator", "dashboard")
COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")
PR_SET_PDEATHSIG = 1
WIB = timezone(timedelta(hours=7), "WIB")  # the demo's calendar day is a day in Sumatra

DEV_MODE_NOTICE = (
    "[yellow]Development mode (LINDUNG_DEV_MODE=true)[/]: the services run open where production "
    "refuses to start (no API keys: every caller is province admin; the development pepper; "
    "development event keys). For production use docker-compose.yml (docs/security.md, "
    '"Production checklist").'
)
# Apache Kafka's default lowest consumer-group session; a stack configured with shorter sessions
# (the tests' 2 s) gets a node that accepts them.
KAFKA_MIN_SESSION_MS = 6000


def _die_with_parent() -> None:
    # If `lindung up` itself is killed (SIGKILL), the kernel stops the children too.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def kafka_version(lib: Path) -> str:
    """The Apache Kafka version of the resolved jars (kafka_2.13-<version>.jar)."""
    jar = next(lib.glob("kafka_2.13-*.jar"))
    return jar.stem.removeprefix("kafka_2.13-")


def instance_port(service: str, index: int, offset: int = 0) -> int:
    """Instance 0 of a service uses its default port; further instances add 100 each."""
    return SERVICE_PORTS[service] + offset + 100 * index


@dataclass
class Child:
    service: str
    index: int
    port: int
    process: subprocess.Popen[bytes]
    pump: threading.Thread

    @property
    def label(self) -> str:
        return self.service if self.index == 0 else f"{self.service}#{self.index + 1}"


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
        """"tansu" or "kafka" (embedded), or "external" (KAFKA_BOOTSTRAP_SERVERS)."""
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
        from lindung_cli.demo import demo_day

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
        assert stream is not None
        for raw in iter(stream.readline, b""):
            # The child's line is text, not markup: "[parameters: ...]" must show, "[/x]" must not
            # raise (a dead pump would leave the child blocked on a full pipe).
            line = escape(raw.decode(errors="replace").rstrip())
            self.console.print(
                f"[{colour}]{label:<16}|[/] {line}", markup=True, highlight=False, soft_wrap=True
            )

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = list(self.children)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for child in list(pending):
                    if child.process.poll() is not None:
                        raise RuntimeError(f"{child.label} exited with {child.process.returncode}")
                    try:
                        if client.get(f"http://127.0.0.1:{child.port}/ready").status_code == 200:
                            pending.remove(child)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise TimeoutError("not ready: " + ", ".join(c.label for c in pending))
                time.sleep(0.3)

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
            for child in self.children:
                if child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in self.children:
                try:
                    child.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait(5)
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
        while True:
            for child in self.children:
                if child.process.poll() is not None:
                    raise RuntimeError(f"{child.label} exited with {child.process.returncode}")
            time.sleep(0.5)


def load_demo(stack: Stack, url_of: Callable[[str], str]) -> dict[str, Any]:
    """Define the demo programme and import the demo P3KE extract (idempotent)."""
    from lindung_cli.demo import demo_programme_path, p3ke_extract

    with api.client(timeout=60.0) as client:
        answer = client.post(
            f"{url_of('allocation')}/programmes",
            content=demo_programme_path().read_bytes(),
            headers={"content-type": "application/yaml"},
        )
        if answer.status_code not in (201, 409):
            raise RuntimeError(f"demo programme refused: {answer.status_code} {answer.text}")
        deadline = time.monotonic() + 30
        while not any(
            p["programme_code"] == "DEMO-SUMUT-2026"
            for p in client.get(f"{url_of('registry')}/programmes").json()
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("the registry did not learn the demo programme")
            time.sleep(0.2)
        current = {r["kind"]: r for r in client.get(f"{url_of('registry')}/reference").json()}
        if "p3ke" in current:
            # A restart keeps whatever extract is loaded (perhaps a real one): importing the demo
            # extract again would replace it and re-validate pending nominations.
            kept: dict[str, Any] = current["p3ke"]
            return kept
        reference = client.post(
            f"{url_of('registry')}/reference/p3ke", content=p3ke_extract(seed=2026, workers=2000)
        )
        reference.raise_for_status()
        result: dict[str, Any] = reference.json()
        return result


def run_up(settings: Settings, scale: dict[str, int], demo: bool) -> None:
    """Start everything, print the addresses, and stop everything on Ctrl-C or SIGTERM."""
    stack = Stack(settings, scale)
    # Java or Maven missing: KafkaUnavailable for the caller to explain, before anything starts.
    stack.check_broker()

    def on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        calendar = stack.demo_calendar(datetime.now(WIB).date()) if demo else None
        stack.start_servers()
        stack.prepare()
        stack.spawn_all()
        stack.wait_ready()
        stack.write_runtime()
        first = {c.service: f"http://127.0.0.1:{c.port}" for c in stack.children if c.index == 0}
        if demo:
            loaded = load_demo(stack, lambda s: first[s])
            stack.console.print(
                f"[bold]Demo data loaded[/]: programme DEMO-SUMUT-2026, P3KE {loaded['version']}"
            )
        stack.console.print("[bold green]Lindung is up.[/]")
        stack.console.print(DEV_MODE_NOTICE)
        if calendar is not None:
            stack.console.print(
                f"[bold]The demo lives on {calendar.isoformat()}[/], a day of its programme year "
                f"({escape(str(stack.calendar_file))}; LINDUNG_BUSINESS_CLOCK_FILE sets another)."
            )
        if stack.keyring_file is not None:
            where = escape(str(stack.keyring_file.parent))
            stack.console.print(
                f"[bold]Events are signed[/] with development keys in {where} (one per service, bpjs and "
                "each regency system; keyring.json): every service verifies what it reads.",
                highlight=False,
            )
        for name, url in first.items():
            where = f"{url}/" if name == "dashboard" else f"{url}/docs"
            stack.console.print(f"  {name:<16} {where}")
        stack.console.print("Stop with Ctrl-C.")
        stack.watch()
    except KeyboardInterrupt:
        stack.console.print("[bold]Stopping...[/]")
    finally:
        # A second Ctrl-C (people press it twice) must not interrupt the stop half-way and leave
        # processes behind with a traceback on the screen.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        stack.console.print("[bold]Lindung stopped.[/]")
