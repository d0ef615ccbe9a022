"""The services of one fault run as real processes (`python -m services.<name>`), as `lindung up`
starts them, so a fault test can SIGKILL, stop and restart each of them.

Every process writes its log to a file of the run; a failed test prints the tails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from lindung_cli.embedded import free_port
from tests.conftest import TEST_ENV

# The services a nomination passes through (the dashboard only reads; it is not part of the flow).
SERVICES = ("registry", "allocation", "enrollment", "claims", "bpjs_simulator")

# Settings of every process of every run (fault-free and faulted alike, so their outcomes compare).
RUN_ENV = {
    **TEST_ENV,
    # Small consumer batches: a service applies its input in many transactions, so a kill or an
    # outage lands between and inside them, not before or after all of it.
    "LINDUNG_CONSUMER_BATCH_SIZE": "8",
    # Lapses are recorded "as of today" on a timer: a restarted enrollment would record them at
    # start, the reference run never. The flow under test ends at enrollment.
    "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0",
    # Some NIKs unknown to Dukcapil: EnrollmentFailed, and allocation releases those seats.
    "LINDUNG_BPJS_NIK_NOT_FOUND_PER_MILLION": "60000",
    "LINDUNG_BPJS_SEED": "29",
    "LINDUNG_NIK_PEPPER": "lindung-fault-tests",
    "LINDUNG_LOG_LEVEL": "INFO",
    "PYTHONUNBUFFERED": "1",
}


@dataclass
class ServiceProcess:
    """One service process (restartable: each start is a new process on the same port)."""

    service: str
    port: int
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    expected_up: bool = False
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.service} is running"
        self.close_log()
        self._log = self.log_path.open("ab")
        self._log.write(f"----- start {self.starts + 1} -----\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.service}"],
            env={**self.env, "LINDUNG_HTTP_PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        self.expected_up = True

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (open transactions roll back, nothing is committed)."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, as an operator stops a service."""
        self._signal(signal.SIGTERM)

    def _signal(self, sig: signal.Signals) -> None:
        self.expected_up = False
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    """The five services of one run, pointed at one database and one broker."""

    database_url: str
    bootstrap: str
    log_dir: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **RUN_ENV,
            **self.extra_env,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
        }
        for service in SERVICES:
            self.processes[service] = ServiceProcess(
                service, free_port(), self.log_dir / f"{service}.log", dict(env)
            )

    def url(self, service: str) -> str:
        return self.processes[service].url

    async def start_all(self) -> None:
        for proc in self.processes.values():
            proc.start()
        await asyncio.gather(*(self.wait_ready(s) for s in SERVICES))

    async def restart(self, service: str) -> None:
        """Start a stopped or killed service again and wait until it consumes."""
        self.processes[service].start()
        await self.wait_ready(service)

    async def wait_ready(self, service: str, timeout_s: float = 60.0) -> None:
        """Until /ready answers 200: the database answers and the consumer holds partitions."""
        proc = self.processes[service]
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                assert proc.process is not None
                if proc.process.poll() is not None:
                    raise RuntimeError(f"{service} exited with {proc.process.returncode}:\n{proc.tail()}")
                try:
                    if (await client.get(f"{proc.url}/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} not ready within {timeout_s}s:\n{proc.tail()}")
                await asyncio.sleep(0.1)

    def check_alive(self) -> None:
        """Fail when a service died that the test did not stop."""
        for proc in self.processes.values():
            if proc.expected_up and proc.process is not None and proc.process.poll() is not None:
                raise RuntimeError(f"{proc.service} exited with {proc.process.returncode}:\n{proc.tail()}")

    def stop_all(self) -> None:
        for proc in self.processes.values():
            proc.stop()
            proc.close_log()

    def tails(self) -> str:
        return "\n".join(f"===== {s} =====\n{p.tail()}" for s, p in self.processes.items())
