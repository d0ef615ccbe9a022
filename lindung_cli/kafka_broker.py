"""Apache Kafka from Maven Central's jars: one KRaft node (broker and controller in one JVM).

The jars are pinned in infra/kafka/pom.xml and resolved once into infra/kafka/target/lib; the
node's settings are infra/kafka/server.properties (plus sasl.properties when secured), the same
files docker-compose.yml runs. Data lives on disk in `data_dir`: a restart keeps topics, messages
and committed offsets (unlike the in-memory Tansu broker).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import logging
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from libs.messaging.connection import KafkaConnection
from lindung_cli.embedded import free_port, port_answers, stop_process

log = logging.getLogger(__name__)

KAFKA_DIR = Path(__file__).resolve().parents[1] / "infra" / "kafka"
ADMIN = "admin"
SCRAM = "SCRAM-SHA-512"


class KafkaUnavailable(RuntimeError):
    """Java or Maven is missing, or the jars could not be resolved (the message says which)."""


def kafka_jars(kafka_dir: Path = KAFKA_DIR) -> Path:
    """The folder of the broker's jars, resolved with Maven the first time and again whenever
    pom.xml changes (a stamp holds its hash: old and new versions' jars must never mix)."""
    lib = kafka_dir / "target" / "lib"
    stamp = lib / ".pom-sha256"
    wanted = hashlib.sha256((kafka_dir / "pom.xml").read_bytes()).hexdigest()
    if shutil.which("java") is None:
        raise KafkaUnavailable(
            "Apache Kafka needs Java 17 or newer: install a JDK (Debian: openjdk-17-jre-headless), "
            "or use the Tansu broker (the default)"
        )
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return lib
    # Two processes may ask at once (test workers, a bench beside `lindung up`): one resolves, the
    # other waits and finds the stamp; nobody removes jars another is about to start from.
    (kafka_dir / "target").mkdir(exist_ok=True)
    with (kafka_dir / "target" / ".resolving.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text().strip() == wanted:
            return lib
        _resolve(kafka_dir, lib)
        stamp.write_text(wanted + "\n")
    return lib


def _resolve(kafka_dir: Path, lib: Path) -> None:
    shutil.rmtree(lib, ignore_errors=True)
    if shutil.which("mvn") is None:
        raise KafkaUnavailable(
            "Apache Kafka's jars come from Maven Central through Maven: install it (Debian: maven), "
            "or use the Tansu broker (the default)"
        )
    log.info("resolving Apache Kafka's jars with Maven (once) into %s", lib)
    done = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(kafka_dir / "pom.xml"), "dependency:copy-dependencies"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not any(lib.glob("kafka_2.13-*.jar")):
        raise KafkaUnavailable(f"mvn could not resolve Apache Kafka's jars:\n{done.stdout}{done.stderr}")


def render(template: str, values: Mapping[str, str]) -> str:
    """`template` with every @NAME@ replaced by values[NAME]; a placeholder left over is an error."""
    text = template
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = set(re.findall(r"@([A-Z_]+)@", text))
    if left:
        raise ValueError(f"unfilled placeholders in the Kafka settings: {sorted(left)}")
    return text


def node_properties(
    *,
    port: int,
    controller_port: int,
    log_dirs: str,
    secured: bool,
    admin_password: str = "",
    listen_host: str = "127.0.0.1",
    advertised_host: str = "127.0.0.1",
    controller_host: str = "127.0.0.1",
    kafka_dir: Path = KAFKA_DIR,
    tls: BrokerTls | None = None,
) -> str:
    """The node's server.properties: the shared template filled in (plus SASL and ACLs if secured,
    plus TLS on the client listener if `tls`)."""
    text = (kafka_dir / "server.properties").read_text()
    if secured:
        text += "\n" + (kafka_dir / "sasl.properties").read_text()
    if tls is not None:
        text += "\n" + (kafka_dir / "tls.properties").read_text()
    return render(
        text,
        {
            "CLIENT_LISTENER": client_protocol(secured, tls is not None),
            "LISTEN_HOST": listen_host,
            "ADVERTISED_HOST": advertised_host,
            "CONTROLLER_HOST": controller_host,
            "PORT": str(port),
            "CONTROLLER_PORT": str(controller_port),
            "LOG_DIRS": log_dirs,
            "ADMIN_PASSWORD": admin_password,
            **({"TLS_KEYSTORE": str(tls.keystore), "TLS_CAFILE": str(tls.cafile)} if tls else {}),
        },
    )


@dataclass(frozen=True)
class BrokerTls:
    """TLS on the client listener: `keystore` is one PEM file with the broker's private key
    (unencrypted PKCS#8) and certificate chain, as Kafka reads it; `cafile` the CA clients trust."""

    keystore: Path
    cafile: Path


def client_protocol(secured: bool, tls: bool) -> str:
    """PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."""
    return ("SASL_" if secured else "") + ("SSL" if tls else "PLAINTEXT")


def parse_properties(text: str) -> dict[str, str]:
    """key=value lines of a .properties file (comments and blank lines skipped)."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, _, value = stripped.partition("=")
        pairs[key.strip()] = value.strip()
    return pairs


class ApacheKafkaBroker:
    """One KRaft node on 127.0.0.1:port, data in `data_dir` (kept across restarts).

    `users` (name → password) turns on SASL/SCRAM-SHA-512 and the ACL authorizer; "admin" is the
    super user the node itself and `lindung kafka setup` connect as."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        users: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        heap_mb: int = 512,
        extra_properties: Mapping[str, str] | None = None,
        tls: BrokerTls | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.controller_port = free_port()
        self.users = dict(users or {})
        if self.users and ADMIN not in self.users:
            raise ValueError("a secured node needs an 'admin' user (the super user)")
        self.log_path = log_path or data_dir / "kafka.log"
        self.heap_mb = heap_mb
        self.extra_properties = dict(extra_properties or {})
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def secured(self) -> bool:
        return bool(self.users)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def cluster_id(self) -> str:
        meta = self.data_dir / "logs" / "meta.properties"
        return parse_properties(meta.read_text()).get("cluster.id", "") if meta.exists() else ""

    def connection(self, user: str = ADMIN) -> KafkaConnection:
        """How a client connects as `user` (no SASL when the node is not secured)."""
        protocol = client_protocol(self.secured, self.tls is not None)
        cafile = str(self.tls.cafile) if self.tls else None
        if not self.secured:
            return KafkaConnection(self.bootstrap, protocol, cafile=cafile)
        return KafkaConnection(
            self.bootstrap, protocol, SCRAM, username=user, password=self.users[user], cafile=cafile
        )

    def properties(self) -> str:
        text = node_properties(
            port=self.port,
            controller_port=self.controller_port,
            log_dirs=str(self.data_dir / "logs"),
            secured=self.secured,
            admin_password=self.users.get(ADMIN, ""),
            tls=self.tls,
        )
        extra = "".join(f"{k}={v}\n" for k, v in self.extra_properties.items())
        return text + ("\n# This node's own additions\n" + extra if extra else "")

    def _java(self, lib: Path, main: str, *args: str, heap: bool = False) -> list[str]:
        memory = [f"-Xmx{self.heap_mb}m", "-Xms128m", "-XX:+UseG1GC"] if heap else ["-Xmx256m"]
        return [
            "java",
            *memory,
            f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
            "-cp",
            f"{lib}/*",
            main,
            *args,
        ]

    def _format(self, lib: Path, config: Path) -> None:
        """Format the storage once (a node that was started before keeps its data)."""
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        scram = [
            arg
            for name, password in self.users.items()
            for arg in ("--add-scram", f"{SCRAM}=[name={name},password={password}]")
        ]
        cluster_id = "-"
        while cluster_id.startswith("-"):  # the tool reads "-..." as an option (as Kafka's Uuid avoids)
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        done = subprocess.run(
            self._java(
                lib,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(config),
                *scram,
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"formatting Kafka's storage failed:\n{done.stdout}{done.stderr}")

    def start(self, timeout_s: float = 90.0) -> ApacheKafkaBroker:
        lib = kafka_jars()
        if port_answers("127.0.0.1", self.port):
            raise RuntimeError(f"port {self.port} is already in use: stop what listens there")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(self.properties())
        config.chmod(0o600)  # it holds the admin password of a secured node
        self._format(lib, config)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self._java(lib, "kafka.Kafka", str(config), heap=True),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal goes to our owner, which stops us
        )
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        """Until the node answers metadata with itself as a broker (a bound port is not enough)."""
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout_s
        while not port_answers("127.0.0.1", self.port):
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"Apache Kafka did not listen on {self.port}; see {self.log_path}")
            time.sleep(0.1)
        admin = AdminClient(self.connection().librdkafka_config() | {"log_level": 0})
        while True:
            self._check_alive()
            with contextlib.suppress(Exception):
                if admin.list_topics(timeout=2).brokers:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"Apache Kafka did not answer metadata; see {self.log_path}")
            time.sleep(0.2)

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"Apache Kafka exited with {self.process.returncode}; see {self.log_path}")

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (a controlled shutdown, logs flushed), SIGKILL if it takes too long."""
        if self.process:
            stop_process(self.process, timeout_s)
        if self._log:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL: a crash; the next start recovers from the log segments on disk."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        """Stop and start on the same ports with the same data (topics and offsets survive)."""
        self.stop()
        self.start()
