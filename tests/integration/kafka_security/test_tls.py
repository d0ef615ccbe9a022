"""TLS on the client listener (SASL_SSL): a throwaway CA signs the node's certificate; Lindung's
clients (librdkafka in `lindung kafka setup`, aiokafka in every service) connect with
LINDUNG_KAFKA_SSL_CAFILE, and a client that does not trust that CA cannot connect.

The node is this module's own (the package's node speaks SASL_PLAINTEXT, as the services test it).
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml
from aiokafka.errors import KafkaConnectionError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from libs.events import topics
from libs.messaging.connection import KafkaConnection
from lindung_cli.kafka_broker import ApacheKafkaBroker, BrokerTls
from tests.infra import started_broker
from tests.integration.kafka_security.conftest import ADMIN_PASSWORD, lindung_kafka
from tests.integration.kafka_security.test_refusals import consume, produce


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def throwaway_tls(folder: Path) -> BrokerTls:
    """A CA valid for a day and the node's certificate for 127.0.0.1 and localhost, as PEM files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Lindung test CA"))
        .issuer_name(_name("Lindung test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kafka"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    cafile, keystore = folder / "ca.pem", folder / "kafka-keystore.pem"
    cafile.write_bytes(ca.public_bytes(pem))
    keystore.touch(mode=0o600)
    keystore.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(pem)
        + ca.public_bytes(pem)
    )
    return BrokerTls(keystore=keystore, cafile=cafile)


@dataclass(frozen=True)
class TlsNode:
    broker: ApacheKafkaBroker
    tls: BrokerTls
    folder: Path


@pytest.fixture(scope="module")
def tls_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsNode]:
    folder = tmp_path_factory.mktemp("kafka-tls")
    tls = throwaway_tls(folder)
    with started_broker("kafka", users={"admin": ADMIN_PASSWORD}, tls=tls) as broker:
        assert isinstance(broker, ApacheKafkaBroker)
        yield TlsNode(broker, tls, folder)


async def test_setup_and_a_service_principal_work_over_sasl_ssl_with_the_ca_file(tls_node: TlsNode) -> None:
    credentials = tls_node.folder / "kafka-credentials.yaml"
    credentials.write_text(yaml.safe_dump({"registry": "registry-pw"}))
    admin_env = {
        "KAFKA_BOOTSTRAP_SERVERS": tls_node.broker.bootstrap,
        "LINDUNG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "LINDUNG_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "LINDUNG_KAFKA_SASL_USERNAME": "admin",
        "LINDUNG_KAFKA_SASL_PASSWORD": ADMIN_PASSWORD,
        "LINDUNG_KAFKA_SSL_CAFILE": str(tls_node.tls.cafile),
    }
    done = lindung_kafka(admin_env, "setup", "--credentials", str(credentials))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "users created: registry" in done.stdout, done.stdout

    registry = KafkaConnection(
        tls_node.broker.bootstrap,
        "SASL_SSL",
        "SCRAM-SHA-512",
        username="registry",
        password="registry-pw",
        cafile=str(tls_node.tls.cafile),
    )
    await produce(registry, topics.REGISTRY)
    await consume(registry, topics.ALLOCATION, "registry")


async def test_a_client_that_does_not_trust_the_ca_cannot_connect(
    tls_node: TlsNode, caplog: pytest.LogCaptureFixture
) -> None:
    admin = tls_node.broker.connection()
    await produce(admin, topics.REGISTRY)  # the twin that works: the node's own CA
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await produce(replace(admin, cafile=None), topics.REGISTRY)  # the system's CAs only
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
