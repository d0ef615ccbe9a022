"""A stack of its own for a benchmark run: `lindung up`'s Stack, in a scratch data directory.

Embedded PostgreSQL and a fresh broker (Tansu, or Apache Kafka with `broker="kafka"`) unless
DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are set, the services at a port offset of their own (other
stacks on the machine keep running), the simulator answering at once, and the services' output in
a log file rather than on the bench's console. Some services (`profile`: one name, several
separated by commas, or "all") may run under pyinstrument: the first instance of each writes its
text report when it stops. The embedded PostgreSQL loads pg_stat_statements, so the bench can
count each service's statements.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console

from libs.events.topics import SUBSCRIPTIONS
from libs.service_names import SERVICES
from libs.settings import Settings
from lindung_cli.benchmarks.target import Target
from lindung_cli.embedded import free_port, port_answers
from lindung_cli.up import Child, Stack, _die_with_parent, instance_port

# The simulator's answer delay: zero, so the bench measures Lindung, not a pretend insurer.
BENCH_ENV = {"LINDUNG_BPJS_MIN_DELAY_MS": "0", "LINDUNG_BPJS_MAX_DELAY_MS": "0"}
# The services a bench scales out, and how far: their further instances' ports must be free too.
INSTANCES_AT_MOST = {"registry": 3, "allocation": 3, "enrollment": 3}


def free_offset(start: int = 23_000) -> int:
    """A port offset at which no service port (of two instances each) is taken."""
    for offset in range(start, 40_000, 300):
        ports = [instance_port(s, i, offset) for s in SERVICES for i in range(INSTANCES_AT_MOST.get(s, 1))]
        if not any(port_answers("127.0.0.1", p) for p in ports):
            return offset
    raise RuntimeError("no free port offset")


def profiled(profile: str | None, service: str, index: int) -> bool:
    """Whether instance `index` of `service` runs under the profiler (`profile`: a service, several
    separated by commas, or "all"; first instances only)."""
    if not profile or index != 0:
        return False
    wanted = {p.strip() for p in profile.split(",")}
    return "all" in wanted or service in wanted


def profile_path(profile_out: Path, service: str) -> Path:
    """The report of `service`: `profile_out` with "{service}" in its name filled in."""
    return profile_out.with_name(profile_out.name.replace("{service}", service))


class BenchStack(Stack):
    profile: str | None = None
    # The report files: "{service}" in the name stands for each profiled service.
    profile_out: Path | None = None

    def start_servers(self) -> None:
        super().start_servers()
        if self.postgres is not None:
            # Loaded at server start only: set it, then restart the (still empty) server. Its
            # statistics tell each service role's statements (sql_counts.py).
            # One statement a call: ALTER SYSTEM refuses to run in the block of several.
            self.postgres.server.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            self.postgres.server.psql("ALTER SYSTEM SET pg_stat_statements.max = 20000")
            self.postgres.stop()
            self.postgres.start()
            self.database_url = self.postgres.url
            self.postgres.server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def _spawn(self, service: str, index: int, colour: str) -> Child:
        if not profiled(self.profile, service, index) or self.profile_out is None:
            return super()._spawn(service, index, colour)
        out = profile_path(self.profile_out, service)
        # pyinstrument opens its report file before it runs the service.
        out.parent.mkdir(parents=True, exist_ok=True)
        port = instance_port(service, index, self.settings.port_offset)
        command = [
            sys.executable,
            "-m",
            "pyinstrument",
            # Text: a call tree of a few kB (the HTML report of a few minutes is hundreds of MB).
            "--renderer",
            "text",
            "--no-color",
            "--interval",
            "0.005",
            "--outfile",
            str(out),
            "-m",
            f"services.{service}",
        ]
        process = subprocess.Popen(
            command,
            env=self.service_env(port, service),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        pump = threading.Thread(target=self._pump, args=(service, colour, process.stdout), daemon=True)
        pump.start()
        return Child(service, index, port, process, pump)

    def stop(self) -> None:
        # uvicorn re-raises the signal that stopped it once it has shut down: SIGTERM would end
        # the process before pyinstrument writes its report, SIGINT becomes a KeyboardInterrupt
        # that pyinstrument catches, then writes. All are signalled first: they write together.
        writing = [
            c
            for c in self.children
            if profiled(self.profile, c.service, c.index) and c.process.poll() is None
        ]
        for child in writing:
            child.process.send_signal(signal.SIGINT)
        for child in writing:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(60)
        super().stop()

    def wait_settled(self, timeout_s: float = 60.0) -> None:
        """Until each consumer group's instances hold all of its partitions between them: a second
        instance joining moves partitions, and a run started mid-rebalance would measure that."""
        expected = {s: self.settings.topic_partitions * len(SUBSCRIPTIONS[s]) for s in SUBSCRIPTIONS}
        deadline = time.monotonic() + timeout_s
        stable = 0
        with httpx.Client(timeout=2.0) as client:
            while stable < 3:
                held: dict[str, int] = {}
                for child in self.children:
                    try:
                        answer = client.get(f"http://127.0.0.1:{child.port}/ready").json()
                    except (httpx.HTTPError, ValueError):
                        answer = {}
                    held[child.service] = held.get(child.service, 0) + int(answer.get("partitions") or 0)
                done = all(held.get(s, 0) == n for s, n in expected.items() if s in held)
                stable = stable + 1 if done else 0
                if time.monotonic() > deadline:
                    raise TimeoutError(f"consumer groups not settled: {held} (expected {expected})")
                time.sleep(1.0)

    def target(self) -> Target:
        pids = {c.label: c.process.pid for c in self.children}
        if self.broker and self.broker.process:
            pids[self.broker_kind] = self.broker.process.pid
        if self.postgres:
            pid_file = self.postgres.data_dir / "postmaster.pid"
            pids["postgres"] = int(pid_file.read_text().split()[0])
        return Target(
            bootstrap=self.bootstrap,
            urls={c.label: f"http://127.0.0.1:{c.port}" for c in self.children},
            pids=pids,
            broker=self.broker_kind,
            keys=str(self.keyring_file.parent) if self.keyring_file else None,
        )


@contextmanager
def own_stack(
    scale: dict[str, int],
    *,
    data_dir: Path | None = None,
    profile: str | None = None,
    profile_out: Path | None = None,
    log: Path | None = None,
    broker: str = "tansu",
) -> Iterator[BenchStack]:
    """Start a whole stack (servers, topics, schemas, services) and stop all of it afterwards."""
    scratch = None
    if data_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="lindung-bench-")
        data_dir = Path(scratch.name)
    saved = dict(os.environ)
    os.environ.update(
        {
            **BENCH_ENV,
            "LINDUNG_DATA_DIR": str(data_dir),
            "LINDUNG_PORT_OFFSET": str(free_offset()),
            "LINDUNG_EMBEDDED_BROKER_PORT": str(free_port()),
            "LINDUNG_BROKER": broker,
        }
    )
    log_path = log or data_dir / "logs" / "services.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log_file:
        stack = BenchStack(Settings(), scale, console=Console(file=log_file, width=200))
        stack.profile, stack.profile_out = profile, profile_out
        try:
            stack.check_broker()
            stack.start_servers()
            stack.prepare()
            stack.spawn_all()
            stack.wait_ready(timeout_s=180)
            stack.wait_settled()
            stack.write_runtime()
            yield stack
        finally:
            stack.stop()
            os.environ.clear()
            os.environ.update(saved)
            if scratch is not None:
                scratch.cleanup()
