"""The node's settings with TLS on the client listener (lindung_cli/kafka_broker.py, no JVM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lindung_cli.kafka_broker import ApacheKafkaBroker, BrokerTls, parse_properties


@pytest.mark.parametrize(
    ("users", "protocol"), [({"admin": "pw"}, "SASL_SSL"), ({}, "SSL")], ids=["sasl_ssl", "ssl"]
)
def test_tls_puts_the_client_listener_on_ssl_with_the_pem_files(
    tmp_path: Path, users: dict[str, str], protocol: str
) -> None:
    tls = BrokerTls(keystore=tmp_path / "keystore.pem", cafile=tmp_path / "ca.pem")
    broker = ApacheKafkaBroker(tmp_path, 19092, users=users, tls=tls)
    settings = parse_properties(broker.properties())
    assert settings["listeners"].startswith(f"{protocol}://127.0.0.1:19092,")
    assert settings["inter.broker.listener.name"] == protocol
    assert settings["ssl.keystore.location"] == str(tls.keystore)
    assert settings["ssl.truststore.location"] == str(tls.cafile)
    connection = broker.connection()
    assert (connection.security_protocol, connection.cafile) == (protocol, str(tls.cafile))


def test_without_tls_nothing_of_it_is_set(tmp_path: Path) -> None:
    settings = parse_properties(ApacheKafkaBroker(tmp_path, 19092, users={"admin": "pw"}).properties())
    assert settings["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert not [key for key in settings if key.startswith("ssl.")]
