"""docker-compose.yml's Kafka path, run without Docker on the tested jars: infra/kafka/start.sh
(with a KAFKA_HOME whose bin/ scripts run the jars as the apache/kafka image's scripts do) formats
and starts the node; kafka-setup's command runs with the compose environment, its services'
credentials config and a secrets file; then each production service, with its compose settings,
connects as its own principal and sees what its ACLs allow. (start.sh's format-once on a restart
is a unit test with stand-in bin/ scripts: tests/unit/deploy/test_compose.py.)

Only the addresses differ from the container's: 127.0.0.1 and free ports instead of kafka:9092.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from confluent_kafka.admin import AdminClient

from libs.messaging.connection import KafkaConnection
from libs.messaging.kafka import describe_topic_configs
from lindung_cli.embedded import free_port, port_answers
from lindung_cli.kafka_acls import acl_table
from lindung_cli.kafka_broker import kafka_jars
from lindung_cli.kafka_setup import KafkaAdmin, SetupError
from tests.compose_file import START_SCRIPT, command, interpolate, interpolated_environment, load_compose
from tests.infra import _note_broker

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "compose-admin-pw"
PRODUCTION_SERVICES = {  # compose service -> principal
    "registry": "registry",
    "allocation": "allocation",
    "enrollment": "enrollment",
    "claims": "claims",
    "dashboard": "dashboard",
}
# What the operator's .env holds (docs/kafka.md).
DOTENV = {
    "KAFKA_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "LINDUNG_TOPIC_PARTITIONS": "2",
    **{f"KAFKA_PASSWORD_{p.upper()}": f"{p}-pw" for p in PRODUCTION_SERVICES.values()},
}
# secrets/kafka-credentials.yaml: the systems outside Lindung.
EXTERNAL = {"bpjs": "bpjs-pw", "regency-12.17": "samosir-pw", "auditor": "auditor-pw"}


def _fake_image_bin(home: Path, lib: Path) -> None:
    """bin/kafka-storage.sh and bin/kafka-server-start.sh as in the image: the same main classes."""
    (home / "bin").mkdir(parents=True)
    scripts = {
        "kafka-storage.sh": f'exec java -Xmx256m -cp "{lib}/*" kafka.tools.StorageTool "$@"',
        "kafka-server-start.sh": (
            f'exec java -Xmx512m -Xms128m -XX:+UseG1GC $KAFKA_LOG4J_OPTS -cp "{lib}/*" kafka.Kafka "$@"'
        ),
    }
    for name, line in scripts.items():
        script = home / "bin" / name
        script.write_text(f"#!/usr/bin/env bash\n{line}\n")
        script.chmod(0o755)


@dataclass
class ComposeNode:
    """The compose kafka container's process, on 127.0.0.1:port."""

    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def connection(self, user: str, password: str) -> KafkaConnection:
        return KafkaConnection(self.bootstrap, "SASL_PLAINTEXT", "SCRAM-SHA-512", user, password)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["bash", str(START_SCRIPT)],
                env={"PATH": os.environ["PATH"], **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        admin = AdminClient(self.connection("admin", ADMIN_PASSWORD).librdkafka_config() | {"log_level": 0})
        deadline = time.monotonic() + 120
        while True:
            assert self.process.poll() is None, f"start.sh exited:\n{self.log.read_text()}"
            if port_answers("127.0.0.1", self.port):
                with contextlib.suppress(Exception):
                    if admin.list_topics(timeout=2).brokers:
                        return
            assert time.monotonic() < deadline, f"the node did not answer:\n{self.log.read_text()}"
            time.sleep(0.2)

    def stop(self) -> None:
        # start.sh exec's the broker: its pid is the JVM's; SIGTERM is a controlled shutdown.
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeNode]:
    root = tmp_path_factory.mktemp("compose-kafka")
    _fake_image_bin(root / "kafka", kafka_jars())
    (root / "data").mkdir()
    compose_env = interpolated_environment(load_compose()["services"]["kafka"], DOTENV)
    port = free_port()
    found = ComposeNode(
        {
            **compose_env,
            "KAFKA_HOME": str(root / "kafka"),
            "KAFKA_DATA_DIR": str(root / "data"),
            "KAFKA_RUN_DIR": str(root / "run"),
            "KAFKA_CLIENT_PORT": str(port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
            "KAFKA_LISTEN_HOST": "127.0.0.1",
            "KAFKA_ADVERTISED_HOST": "127.0.0.1",
        },
        port,
        root / "kafka.log",
    )
    _note_broker("kafka")  # for the run's summary of brokers per package
    found.start()
    try:
        yield found
    finally:
        found.stop()


def _kafka_setup(node: ComposeNode, workdir: Path) -> subprocess.CompletedProcess[str]:
    """The kafka-setup service's command with its compose environment, config and secret."""
    compose = load_compose()
    setup = compose["services"]["kafka-setup"]
    files: dict[str, Path] = {}
    for mounted in setup["configs"]:
        files[mounted["target"]] = workdir / "service-credentials.yaml"
        content = compose["configs"][mounted["source"]]["content"]
        files[mounted["target"]].write_text(interpolate(content, DOTENV))
    for mounted in setup["secrets"]:
        files[mounted["target"]] = workdir / "kafka-credentials.yaml"
        files[mounted["target"]].write_text(yaml.safe_dump(EXTERNAL))
    shell, flag, script = command(setup)
    assert (shell, flag) == ("sh", "-c")
    for target, path in files.items():
        assert target in script, target
        script = script.replace(target, shlex.quote(str(path)))
    env = {
        **interpolated_environment(setup, DOTENV),
        "KAFKA_BOOTSTRAP_SERVERS": node.bootstrap,
        # `lindung` as installed beside this interpreter; no .env of the developer's (cwd).
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(workdir),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [shell, flag, script], env=env, cwd=workdir, capture_output=True, text=True, timeout=180, check=False
    )


def _service_connection(
    node: ComposeNode, compose_service: str, password: str | None = None
) -> KafkaConnection:
    """How the compose service connects (its environment, .env filled in), at the test's address."""
    env = interpolated_environment(load_compose()["services"][compose_service], DOTENV)
    return KafkaConnection(
        node.bootstrap,
        env["LINDUNG_KAFKA_SECURITY_PROTOCOL"],
        env["LINDUNG_KAFKA_SASL_MECHANISM"],
        username=env["LINDUNG_KAFKA_SASL_USERNAME"],
        password=password if password is not None else env["LINDUNG_KAFKA_SASL_PASSWORD"],
    )


def _visible_topics(connection: KafkaConnection) -> set[str]:
    """The topics the broker shows this principal (those it may describe); SetupError if refused."""
    admin = KafkaAdmin(connection.librdkafka_config(), str(connection.username))
    return {t for t in admin.check_connected() if not t.startswith("__")}


def _allowed_topics(principal: str) -> set[str]:
    return {g.name for g in acl_table() if g.principal == principal and g.resource == "topic"}


def test_compose_kafka_path_runs_on_the_tested_node(node: ComposeNode, tmp_path: Path) -> None:
    log = node.log.read_text()
    assert "formatting" in log, log

    setup = _kafka_setup(node, tmp_path)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "users created: allocation, claims, dashboard, enrollment, registry" in setup.stdout
    assert "users created: auditor, bpjs, regency-12.17" in setup.stdout

    # Every production service, with its compose settings, is its own principal.
    for compose_service, principal in PRODUCTION_SERVICES.items():
        visible = _visible_topics(_service_connection(node, compose_service))
        assert visible == _allowed_topics(principal), compose_service
    # The external systems from the secrets file too.
    regency = node.connection("regency-12.17", EXTERNAL["regency-12.17"])
    assert _visible_topics(regency) == _allowed_topics("regency-12.17")
    # A wrong password is refused.
    with pytest.raises(SetupError, match="refused registry's credentials"):
        _visible_topics(_service_connection(node, "registry", password="not-its-password"))

    # Topics kept for ever (compose's retention default), with .env's partitions.
    admin = node.connection("admin", ADMIN_PASSWORD)
    assert asyncio.run(describe_topic_configs(admin, "lindung.registry.v1"))["retention.ms"] == "-1"
    topic = AdminClient(admin.librdkafka_config()).list_topics(timeout=10).topics["lindung.registry.v1"]
    assert len(topic.partitions) == 2
