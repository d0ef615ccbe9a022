"""`lindung up --broker kafka` as a person runs it: Apache Kafka (one KRaft node, data on disk in
<data_dir>/kafka) instead of Tansu, embedded PostgreSQL, every service, demo data.

The README's nomination curl, run as written (ports shifted), ends in an enrolled worker (the time
from the POST is printed, not asserted: speed belongs to benchmarks); Ctrl-C leaves no JVM nor any
other process behind; a second `lindung up --broker kafka` on the same data directory finds the
topics, the events and the consumer groups' offsets of the first (nothing re-sent). Without Java
the command says so in a sentence and exits 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from libs.events.topics import REGISTRY
from libs.settings import SERVICE_PORTS
from lindung_cli.demo import EXAMPLE_WORKER
from tests.e2e.test_lindung_up import UpProcess, _free_offset
from tests.running import process_env

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PORT_OFFSET = _free_offset()
# Workers the first run enrolled: the second run finds their events on the broker.
POSTED_WORKERS: list[str] = []


def url(service: str) -> str:
    return f"http://127.0.0.1:{SERVICE_PORTS[service] + PORT_OFFSET}"


def readme_nomination_curl() -> list[str]:
    """The README's nomination command (curl ... -X POST .../nominations -d '{...}'), as argv,
    aimed at this stack's registry."""
    readme = (REPO / "README.md").read_text()
    found = re.search(r"^curl -s -X POST http://127\.0\.0\.1:8101/nominations .*?}'$", readme, re.M | re.S)
    assert found, "the README no longer shows the nomination curl"
    return [
        a.replace("127.0.0.1:8101", url("registry").removeprefix("http://")) for a in shlex.split(found[0])
    ]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lindung-up-kafka")


@pytest.fixture(scope="module")
def stack(data_dir: Path) -> Iterator[UpProcess]:
    up = UpProcess(data_dir, "--broker", "kafka", port_offset=PORT_OFFSET)
    try:
        up.wait_for("Lindung is up", timeout_s=240)
        yield up
    finally:
        _stop_for_good(up)


def _stop_for_good(up: UpProcess) -> None:
    """After a failed test: `lindung up` and its JVM (a session of its own) must not outlive it."""
    leftover = _stack_processes(Path(up.env["LINDUNG_DATA_DIR"]), up.process.pid)
    if up.process.poll() is None:
        up.process.kill()
    for process in leftover:
        with contextlib.suppress(psutil.Error):
            process.kill()


def _stack_processes(data_dir: Path, pid: int) -> list[psutil.Process]:
    """`lindung up`'s descendants, and any process whose command line names the data directory
    (the JVM, PostgreSQL)."""
    found: dict[int, psutil.Process] = {}
    with contextlib.suppress(psutil.NoSuchProcess):
        found |= {p.pid: p for p in psutil.Process(pid).children(recursive=True)}
    for process in psutil.process_iter(["cmdline"]):
        if any(str(data_dir) in part for part in process.info["cmdline"] or ()):
            found[process.pid] = process
    found.pop(os.getpid(), None)
    return list(found.values())


def _alive(processes: list[psutil.Process]) -> list[str]:
    found = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE:
                found.append(f"{process.pid} {' '.join(process.cmdline())[:160]}")
    return found


def _interrupt_and_check_nothing_remains(up: UpProcess, sig: signal.Signals) -> None:
    data_dir = Path(up.env["LINDUNG_DATA_DIR"])
    before = _stack_processes(data_dir, up.process.pid)
    jvms = [p for p in before if p.name() == "java"]
    assert len(jvms) == 1, _alive(before)
    services = [p for p in before if "services." in " ".join(p.cmdline())]
    assert len(services) == 6, _alive(before)
    pg_pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    up.process.send_signal(sig)
    assert up.process.wait(120) == 0, "".join(up.lines[-60:])
    up.reader.join(30)
    output = "".join(up.lines)
    assert "Traceback" not in output, output[-6000:]
    _, alive = psutil.wait_procs(before, timeout=15)
    assert _alive(alive) == [], "left running:\n" + "\n".join(_alive(alive))
    # Nothing else of this stack either: no JVM with its data directory, no PostgreSQL.
    assert _alive(_stack_processes(data_dir, up.process.pid)) == []
    assert not psutil.pid_exists(pg_pid) or psutil.Process(pg_pid).status() == psutil.STATUS_ZOMBIE
    assert not (data_dir / "runtime.json").exists()


def _service_env(up: UpProcess, name: str) -> dict[str, str]:
    for child in psutil.Process(up.process.pid).children():
        if f"services.{name}" in child.cmdline():
            return dict(child.environ())
    raise AssertionError(f"no {name} process")


def test_without_java_it_says_so_and_exits_2(tmp_path: Path) -> None:
    env = {
        **process_env(),
        "PATH": str(tmp_path),
        "LINDUNG_DATA_DIR": str(tmp_path / "var"),
        "COLUMNS": "400",
    }
    done = subprocess.run(
        [sys.executable, "-m", "lindung_cli.main", "up", "--broker", "kafka"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Cannot start Apache Kafka" in output and "Java 17" in output, output
    assert "Traceback" not in output, output
    assert not (tmp_path / "var" / "postgres").exists()  # refused before anything started


def test_the_readme_nomination_is_enrolled_on_apache_kafka(stack: UpProcess, data_dir: Path) -> None:
    output = " ".join("".join(stack.lines).split())  # as one line: the console wraps long ones
    assert f"Starting Apache Kafka 4.1.1 (KRaft, data in {data_dir}/kafka)" in output, output[:3000]
    assert "Tansu" not in output
    assert json.loads((data_dir / "runtime.json").read_text())["broker"] == "kafka"
    assert (data_dir / "logs" / "kafka.log").stat().st_size > 0
    assert (data_dir / "kafka" / "logs" / "meta.properties").exists()
    registry_env = _service_env(stack, "registry")
    assert registry_env["LINDUNG_KAFKA_IDEMPOTENCE"] == "true"

    started = time.monotonic()
    posted = subprocess.run(readme_nomination_curl(), capture_output=True, text=True, timeout=30)
    assert posted.returncode == 0, posted.stderr
    answer = json.loads(posted.stdout)
    assert answer["status"] == "validated", answer
    POSTED_WORKERS.append(answer["worker_id"])
    enrolled = None
    while time.monotonic() - started < 60:
        # The README's second curl.
        got = httpx.get(f"{url('enrollment')}/enrollments", params={"status": "enrolled"}, timeout=10)
        mine = [e for e in got.json()["items"] if e["worker_id"] == answer["worker_id"]]
        if mine:
            enrolled = mine[0]
            break
        time.sleep(0.1)
    seconds = time.monotonic() - started
    print(f"\nApache Kafka: README nomination POST -> enrolled in {seconds:.2f} s")
    assert enrolled is not None, "not enrolled within 60 s:\n" + "".join(stack.lines[-40:])
    assert enrolled["kpj"].startswith("KPJ")
    assert enrolled["nik"] == str(EXAMPLE_WORKER["nik"])[:4] + "**********" + str(EXAMPLE_WORKER["nik"])[-2:]


def test_ctrl_c_leaves_no_jvm_or_other_process(stack: UpProcess) -> None:
    _interrupt_and_check_nothing_remains(stack, signal.SIGINT)


def test_a_second_run_finds_the_topics_events_and_offsets_of_the_first(
    stack: UpProcess, data_dir: Path
) -> None:
    assert stack.process.poll() is not None, "the first run is still up"
    again = UpProcess(data_dir, "--broker", "kafka", "--no-demo", port_offset=PORT_OFFSET)
    try:
        again.wait_for("Lindung is up", timeout_s=240)
        # The broker kept every event: nothing is re-sent.
        assert _service_env(again, "registry")["LINDUNG_REPUBLISH_ON_START"] == "false"
        bootstrap = json.loads((data_dir / "runtime.json").read_text())["kafka_bootstrap_servers"]
        committed = _committed_offsets(bootstrap, "enrollment")
        assert any(offset > 0 for offset in committed), committed
        assert POSTED_WORKERS, "the first run enrolled nobody"
        assert _registry_topic_holds(bootstrap, POSTED_WORKERS[0])
        _interrupt_and_check_nothing_remains(again, signal.SIGTERM)
    finally:
        _stop_for_good(again)


def _committed_offsets(bootstrap: str, group: str) -> list[int]:
    """The group's committed offset per partition (negative where it has none)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = [ConsumerGroupTopicPartitions(group)]
    found = admin.list_consumer_group_offsets(request, request_timeout=10)[group].result()
    return [int(tp.offset) for tp in found.topic_partitions]


def _registry_topic_holds(bootstrap: str, text: str) -> bool:
    """The registry's topic, read from the start without a group, holds a message naming `text`."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "e2e-reader", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(REGISTRY, timeout=10).topics[REGISTRY].partitions
        consumer.assign([TopicPartition(REGISTRY, p, 0) for p in partitions])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None and text in (message.value() or b"").decode():
                return True
        return False
    finally:
        consumer.close()
