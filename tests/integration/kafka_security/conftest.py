"""One Apache Kafka node with SASL/SCRAM-SHA-512 and the StandardAuthorizer for the package, set up
by `lindung kafka setup` as production's one-shot container runs it (a process, the admin's
LINDUNG_KAFKA_* settings, a credentials file): every test here meets the same users and ACLs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from libs.messaging.connection import KafkaConnection
from lindung_cli.kafka_broker import ApacheKafkaBroker
from tests.conftest import TEST_ENV
from tests.infra import started_broker

ADMIN_PASSWORD = "admin-secret"
# The services here run with the tests' settings, where the simulator speaks for BPJS: the ACLs
# `lindung kafka setup` applies follow the same setting (LINDUNG_BPJS_PRODUCERS).
BPJS_PRODUCERS = TEST_ENV["LINDUNG_BPJS_PRODUCERS"]
SERVICES = ("registry", "allocation", "enrollment", "claims", "bpjs_simulator", "dashboard")
# The auditor is left out of the credentials file on purpose: it gets its ACLs and no user.
CREDENTIALS = {
    **{service: f"{service}-pw" for service in SERVICES},
    "bpjs": "bpjs-pw",
    "regency-12.17": "samosir-pw",
    "regency-12.71": "medan-pw",
}


def principal_env(bootstrap: str, user: str, password: str) -> dict[str, str]:
    """The settings a Lindung process connects with as `user` (docs/kafka.md)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "LINDUNG_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "LINDUNG_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "LINDUNG_KAFKA_SASL_USERNAME": user,
        "LINDUNG_KAFKA_SASL_PASSWORD": password,
    }


def lindung_kafka(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`lindung kafka ARGS` as a process with `env` added to ours."""
    return subprocess.run(
        [sys.executable, "-m", "lindung_cli.main", "kafka", *args],
        env={
            **os.environ,
            "COLUMNS": "200",
            "LINDUNG_TOPIC_PARTITIONS": "2",
            "LINDUNG_BPJS_PRODUCERS": BPJS_PRODUCERS,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass(frozen=True)
class SecuredCluster:
    broker: ApacheKafkaBroker
    credentials_file: Path
    first_setup: subprocess.CompletedProcess[str]
    second_setup: subprocess.CompletedProcess[str]

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def env_of(self, user: str, password: str | None = None) -> dict[str, str]:
        known = {"admin": ADMIN_PASSWORD, **CREDENTIALS}
        return principal_env(self.bootstrap, user, password if password is not None else known[user])

    def connection(self, user: str, password: str | None = None) -> KafkaConnection:
        known = {"admin": ADMIN_PASSWORD, **CREDENTIALS}
        return KafkaConnection(
            self.bootstrap,
            "SASL_PLAINTEXT",
            "SCRAM-SHA-512",
            username=user,
            password=password if password is not None else known[user],
        )


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredCluster]:
    credentials = tmp_path_factory.mktemp("kafka-secrets") / "kafka-credentials.yaml"
    credentials.write_text(yaml.safe_dump(CREDENTIALS))
    with started_broker("kafka", users={"admin": ADMIN_PASSWORD}) as broker:
        assert isinstance(broker, ApacheKafkaBroker)
        admin = principal_env(broker.bootstrap, "admin", ADMIN_PASSWORD)
        first = lindung_kafka(admin, "setup", "--credentials", str(credentials))
        assert first.returncode == 0, first.stdout + first.stderr
        second = lindung_kafka(admin, "setup", "--credentials", str(credentials))
        yield SecuredCluster(broker, credentials, first, second)
