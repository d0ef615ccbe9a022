"""`lindung up`: the whole system on one machine, each service its own process, stopped cleanly.

Embedded PostgreSQL and the Tansu broker are started unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS
point elsewhere. Ctrl-C or SIGTERM stops every child, then the embedded servers.
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
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.markup import escape

from libs.events.topics import all_topic_names
from libs.messaging.kafka import ensure_topics, wait_for_broker
from libs.runtime.migrate import upgrade_all
from libs.settings import SERVICE_PORTS, Settings
from lindung_cli.embedded import EmbeddedPostgres, TansuBroker
from lindung_cli.runtime_file import runtime_path, write_runtime

SERVICES = ("registry", "allocation", "enrollment", "claims", "bpjs_simulator", "dashboard")
COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If `lindung up` itself is killed (SIGKILL), the kernel stops the children too.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


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
    broker: TansuBroker | None = None
    children: list[Child] = field(default_factory=list)
    database_url: str = ""
    bootstrap: str = ""

    def start_servers(self) -> None:
        data = Path(self.settings.data_dir).resolve()
        # The directory actually used, absolute: a relative LINDUNG_DATA_DIR depends on where the
        # command was started, and an officer looking for the logs needs the real place.
        self.console.print(f"[bold]Data directory[/]: {escape(str(data))}", highlight=False)
        if self.settings.database_url:
            self.database_url = self.settings.database_url
        else:
            where = escape(str(data / "postgres"))
            self.console.print(f"[bold]Starting embedded PostgreSQL[/] (data in {where})", highlight=False)
            self.postgres = EmbeddedPostgres(data / "postgres").start()
            self.database_url = self.postgres.url
        if self.settings.kafka_bootstrap_servers:
            self.bootstrap = self.settings.kafka_bootstrap_servers
        else:
            self.console.print("[bold]Starting embedded Kafka-protocol broker (Tansu)[/]")
            self.broker = TansuBroker(self.settings.embedded_broker_port, data / "logs" / "tansu.log").start()
            self.bootstrap = self.broker.bootstrap

    def prepare(self) -> None:
        """Topics and schemas, before any service starts."""

        async def topics() -> None:
            await wait_for_broker(self.bootstrap)
            await ensure_topics(
                self.bootstrap,
                all_topic_names(),
                self.settings.topic_partitions,
                self.settings.topic_replication,
            )

        asyncio.run(topics())
        upgrade_all(self.database_url)

    def spawn_all(self) -> None:
        for position, service in enumerate(SERVICES):
            if importlib.util.find_spec(f"services.{service}.__main__") is None:
                continue
            for index in range(self.scale.get(service, 1)):
                self.children.append(self._spawn(service, index, COLOURS[position % len(COLOURS)]))

    def _spawn(self, service: str, index: int, colour: str) -> Child:
        port = instance_port(service, index, self.settings.port_offset)
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "LINDUNG_HTTP_PORT": str(port),
            # The embedded broker starts empty: services re-send their stored events.
            "LINDUNG_REPUBLISH_ON_START": "true" if self.broker else "false",
            "PYTHONUNBUFFERED": "1",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            env=env,
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
                "services": {c.label: f"http://127.0.0.1:{c.port}" for c in self.children},
                "pid": os.getpid(),
            },
        )

    def stop(self) -> None:
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
        if self.broker:
            self.broker.stop()
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

    with httpx.Client(timeout=60.0) as client:
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

    def on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
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
