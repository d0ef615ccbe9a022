"""Ctrl-C on `lindung up` in a terminal: the terminal sends SIGINT to the whole foreground process
group. Everything must stop cleanly: exit status 0, no traceback on the screen, no process left;
pressed twice, the same. The start-up log names the data directory actually used, as an absolute
path, even when LINDUNG_DATA_DIR is relative.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from lindung_cli.embedded import free_port
from tests.conftest import TEST_ENV
from tests.e2e.test_lindung_up import _free_offset
from tests.running import process_env

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _wait_for(lines: list[str], process: subprocess.Popen[str], text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(text in line for line in lines):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not seen; output:\n{''.join(lines[-60:])}")
        time.sleep(0.2)


def test_ctrl_c_to_the_process_group_stops_everything_cleanly(tmp_path: Path) -> None:
    env = {
        **process_env(),
        **TEST_ENV,
        "LINDUNG_DATA_DIR": "var-interrupt",  # relative: the log must say where it really is
        "LINDUNG_PORT_OFFSET": str(_free_offset()),
        "LINDUNG_EMBEDDED_BROKER_PORT": str(free_port()),
        "PYTHONPATH": str(REPO),
        "COLUMNS": "400",  # one log line per line: the path is not wrapped
    }
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    lines: list[str] = []
    # A session of its own, as a shell's foreground job has a process group of its own.
    process = subprocess.Popen(
        [sys.executable, "-m", "lindung_cli.main", "up", "--no-demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        _wait_for(lines, process, "Lindung is up", timeout_s=180)
        descendants = psutil.Process(process.pid).children(recursive=True)
        assert len(descendants) >= 6, "".join(lines[-60:])  # the six services and the broker
        pg_pid = int((tmp_path / "var-interrupt" / "postgres" / "postmaster.pid").read_text().split()[0])

        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        time.sleep(0.5)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # and again, as people do while it stops
        assert process.wait(90) == 0, "".join(lines[-60:])
        reader.join(30)
        output = "".join(lines)
        assert "Traceback" not in output, output[-6000:]
        assert "KeyboardInterrupt" not in output, output[-6000:]
        _, alive = psutil.wait_procs(descendants, timeout=15)
        assert alive == [], f"left running: {[(p.pid, p.name()) for p in alive]}\n{output[-6000:]}"
        assert not psutil.pid_exists(pg_pid) or psutil.Process(pg_pid).status() == psutil.STATUS_ZOMBIE
        data_dir = str((tmp_path / "var-interrupt").resolve())
        assert f"Data directory: {data_dir}" in output, output[:3000]
        assert f"{data_dir}/postgres" in output, output[:3000]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
