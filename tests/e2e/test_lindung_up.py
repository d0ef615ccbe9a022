"""`lindung up` as a person runs it: embedded PostgreSQL and broker, every service, demo data.

One nomination posted over HTTP must reach the enrollment read model within 10 seconds, and
SIGTERM must leave no process behind. Nothing the stack logged during the run (every service's
output, the broker's and PostgreSQL's log files) holds a NIK or a name that was posted.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import psutil
import pytest

from libs.nik import compose_nik
from libs.settings import SERVICE_PORTS
from lindung_cli.demo import EXAMPLE_WORKER
from lindung_cli.embedded import free_port, port_answers
from tests.conftest import TEST_ENV
from tests.running import process_env

pytestmark = pytest.mark.e2e


def _free_offset() -> int:
    """A port offset whose service ports are all free: never collide with another running stack.

    Every port stays below the kernel's ephemeral range (32768 up): the other test worker's
    processes and connections take ports there at any moment, and a stack started minutes after
    its offset was chosen found its dashboard port taken (uvicorn exit 3)."""
    rng = random.Random()
    for _ in range(200):
        offset = rng.randrange(2000, 24000, 10)
        if not any(port_answers("127.0.0.1", port + offset) for port in SERVICE_PORTS.values()):
            return offset
    raise RuntimeError("no free port offset found")


PORT_OFFSET = _free_offset()


class UpProcess:
    def __init__(self, data_dir: Path, *options: str, port_offset: int = PORT_OFFSET) -> None:
        env = {
            **process_env(),
            **TEST_ENV,
            "LINDUNG_DATA_DIR": str(data_dir),
            "LINDUNG_PORT_OFFSET": str(port_offset),
            "LINDUNG_EMBEDDED_BROKER_PORT": str(free_port()),
        }
        self.env = env
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lindung_cli.main", "up", *options],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

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


# Personal data this module posts: no log line of the run may hold any of it.
POSTED_NIKS: set[str] = {str(EXAMPLE_WORKER["nik"])}
POSTED_NAMES: set[str] = {str(EXAMPLE_WORKER["full_name"])}


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


def test_nominations_that_fail_in_every_way_are_answered(stack: UpProcess) -> None:
    """Rejections, a list upload with bad rows and malformed requests: the paths that quote inputs."""
    samosir = compose_nik("12.17", 5, date(1990, 3, 9), "P", 4321)
    medan = compose_nik("12.71", 2, date(1979, 11, 23), "L", 8765)
    aceh = compose_nik("11.71", 1, date(1985, 1, 2), "L", 1111)  # another province
    people = {
        samosir: "Tiurmaida Simanjuntak",
        medan: "Hotasi Panggabean",
        aceh: "Teuku Iskandar Muda",
    }
    POSTED_NIKS.update(people)
    POSTED_NAMES.update(people.values())
    registry = url("registry")
    for nik, name in ((medan, people[medan]), (aceh, people[aceh])):
        # Not in P3KE, issued in another regency than the nominating one, or another province.
        answer = httpx.post(
            f"{registry}/nominations", json={**EXAMPLE_WORKER, "nik": nik, "full_name": name}, timeout=10
        )
        assert answer.status_code in (201, 422), answer.text
    too_long = httpx.post(
        f"{registry}/nominations",
        json={**EXAMPLE_WORKER, "nik": samosir, "full_name": people[samosir] * 20},
        timeout=10,
    )
    assert too_long.status_code == 422
    not_json = httpx.post(
        f"{registry}/nominations",
        content=f'{{"nik": "{samosir}", "full_name": "{people[samosir]}"',
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert not_json.status_code == 422
    rows = [
        "NIK,Nama,Tanggal Lahir,Jenis Kelamin,Pekerjaan,Kecamatan,Desa,Sektor",
        f"{samosir},{people[samosir]},09-03-1990,P,petani,Pangururan,Lumban Suhi Suhi,non sawit",
        f"{medan},{people[medan]},23-11-1979,L,nelayan,Pangururan,Tuktuk,non sawit",
        f"{aceh},{people[aceh]},31-02-1985,X,nelayan,,Tuktuk,kelapa",
        f"{samosir[:15]},{people[samosir]},1990-03-09,P,petani,Pangururan,Tuktuk,non sawit",
    ]
    uploaded = httpx.post(
        f"{registry}/nominations/upload",
        params={"programme": EXAMPLE_WORKER["programme_code"], "regency": "12.17"},
        files={"file": ("usulan.csv", ("\n".join(rows) + "\n").encode(), "text/csv")},
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert len(uploaded.json()["results"]) == 4
    coverage = httpx.post(
        f"{url('enrollment')}/coverage", json={"nik": samosir, "on": "2026-03-01"}, timeout=10
    )
    assert coverage.status_code == 200 and coverage.json()["covered"] is False


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


NIK_LIKE = re.compile(r"(?<!\d)\d{16}(?!\d)")


def _log_files(data_dir: Path) -> list[Path]:
    """The log files the stack wrote under its data directory (the broker's, PostgreSQL's)."""
    found = []
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        in_log_dir = any(part in ("log", "logs", "pg_log") for part in path.relative_to(data_dir).parts[:-1])
        # PostgreSQL's server log is `postgres/log` (a file), the broker's `logs/tansu.log`.
        if in_log_dir or path.suffix == ".log" or path.name in ("log", "logfile"):
            found.append(path)
    return found


def test_no_nik_or_name_in_any_log_of_the_run(stack: UpProcess) -> None:
    """Every line the stack wrote, from start to SIGTERM: no NIK (nor any 16-digit run), no name."""
    if stack.process.poll() is None:  # run on its own: make some traffic, then stop the stack
        httpx.post(f"{url('registry')}/nominations", json=EXAMPLE_WORKER, timeout=10)
        stack.process.send_signal(signal.SIGTERM)
        stack.process.wait(60)
    stack.reader.join(30)
    sources = {"lindung up (every service)": "".join(stack.lines)}
    data_dir = Path(stack.env["LINDUNG_DATA_DIR"])
    for path in _log_files(data_dir):
        sources[str(path.relative_to(data_dir))] = path.read_text(errors="replace")
    assert len(sources["lindung up (every service)"].splitlines()) > 20  # the services did log
    found = []
    for source, text in sources.items():
        for number, line in enumerate(text.splitlines(), start=1):
            hits = [n for n in POSTED_NIKS if n in line] + NIK_LIKE.findall(line)
            hits += [name for name in POSTED_NAMES if name.lower() in line.lower()]
            if hits:
                found.append(f"{source}:{number}: {sorted(set(hits))}: {line[:300]}")
    assert found == [], "personal data in the logs:\n" + "\n".join(found[:40])
