"""`lindung up` as a person runs it: embedded PostgreSQL and broker, every service, demo data.

One nomination posted over HTTP must reach the enrollment read model within 10 seconds, and
SIGTERM must leave no process behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from libs.settings import SERVICE_PORTS
from lindung_cli.demo import EXAMPLE_WORKER
from lindung_cli.embedded import free_port, port_answers
from tests.conftest import TEST_ENV

pytestmark = pytest.mark.e2e


def _free_offset() -> int:
    """A port offset whose service ports are all free: never collide with another running stack."""
    rng = random.Random()
    for _ in range(200):
        offset = rng.randrange(2000, 40000, 10)
        if not any(port_answers("127.0.0.1", port + offset) for port in SERVICE_PORTS.values()):
            return offset
    raise RuntimeError("no free port offset found")


PORT_OFFSET = _free_offset()


class UpProcess:
    def __init__(self, data_dir: Path) -> None:
        env = {
            **os.environ,
            **TEST_ENV,
            "LINDUNG_DATA_DIR": str(data_dir),
            "LINDUNG_PORT_OFFSET": str(PORT_OFFSET),
            "LINDUNG_EMBEDDED_BROKER_PORT": str(free_port()),
        }
        env.pop("DATABASE_URL", None)
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        self.env = env
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lindung_cli.main", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not seen; output:\n{''.join(self.lines[-60:])}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    up = UpProcess(tmp_path_factory.mktemp("lindung-up"))
    try:
        up.wait_for("Lindung is up", timeout_s=180)
        yield up
    finally:
        if up.process.poll() is None:
            up.process.kill()


def url(service: str) -> str:
    ports = {"registry": 8101, "enrollment": 8103}
    return f"http://127.0.0.1:{ports[service] + PORT_OFFSET}"


def test_a_posted_nomination_is_enrolled_within_ten_seconds(stack: UpProcess) -> None:
    started = time.monotonic()
    answer = httpx.post(f"{url('registry')}/nominations", json=EXAMPLE_WORKER, timeout=10)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "validated"
    worker_id = answer.json()["worker_id"]
    enrolled = None
    while time.monotonic() - started < 10:
        got = httpx.get(f"{url('enrollment')}/enrollments/{worker_id}", timeout=5)
        if got.status_code == 200 and got.json()[0]["status"] == "enrolled":
            enrolled = got.json()[0]
            break
        time.sleep(0.2)
    assert enrolled is not None, "not enrolled within 10 s"
    assert enrolled["kpj"].startswith("KPJ")
    assert enrolled["nik"] == "1217**********01"
    assert enrolled["coverage_start"] == "2026-01-01" and enrolled["coverage_end"] == "2026-12-31"


def test_the_same_nik_again_is_rejected_as_a_duplicate_and_a_bad_nik_gets_reasons(stack: UpProcess) -> None:
    again = httpx.post(f"{url('registry')}/nominations", json=EXAMPLE_WORKER, timeout=10)
    assert again.status_code == 201
    assert again.json()["status"] == "rejected"
    # The duplicate is certain; that she is now a BPJS participant is known to the registry only
    # once it has consumed EnrolledAtBPJS, which happens asynchronously.
    codes = [r["code"] for r in again.json()["reasons"]]
    assert codes[-1] == "DUPLICATE_NOMINATION"
    assert set(codes) <= {"ALREADY_BPJS_PARTICIPANT", "DUPLICATE_NOMINATION"}
    bad = httpx.post(f"{url('registry')}/nominations", json={**EXAMPLE_WORKER, "nik": "12170545"}, timeout=10)
    assert bad.status_code == 422
    codes = [r["code"] for r in bad.json()["detail"]["reasons"]]
    assert "NIK_FORMAT" in codes


def test_status_reports_counts_of_the_running_stack(stack: UpProcess) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lindung_cli.main", "status"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "registry" in out.stdout and "enrollment" in out.stdout


def test_sigterm_stops_every_process(stack: UpProcess, tmp_path: Path) -> None:
    parent = psutil.Process(stack.process.pid)
    children = parent.children(recursive=True)
    assert len(children) >= 5  # the services, the simulator and the broker
    runtime = json.loads((Path(stack.env["LINDUNG_DATA_DIR"]) / "runtime.json").read_text())
    assert "registry" in runtime["services"]
    pg_pid_file = Path(stack.env["LINDUNG_DATA_DIR"]) / "postgres" / "postmaster.pid"
    pg_pid = int(pg_pid_file.read_text().split()[0])
    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(60) == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left running: {[p.pid for p in alive]}"
    assert not psutil.pid_exists(pg_pid) or psutil.Process(pg_pid).status() == psutil.STATUS_ZOMBIE
