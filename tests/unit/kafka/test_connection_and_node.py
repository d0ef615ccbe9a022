"""How clients reach Kafka (settings → options of each client library) and the node's settings."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faststream.security import SASLScram512

from libs.messaging.connection import KafkaConnection, KafkaSettingsError
from libs.settings import Settings
from lindung_cli.kafka_broker import node_properties, parse_properties, render


def test_plaintext_is_just_the_address() -> None:
    connection = KafkaConnection.from_settings(Settings(kafka_bootstrap_servers="k:9092"))
    assert connection.aiokafka_options() == {"bootstrap_servers": "k:9092"}
    assert connection.faststream_security() is None
    assert connection.librdkafka_config() == {"bootstrap.servers": "k:9092", "security.protocol": "plaintext"}


def test_sasl_scram_reaches_every_client_library() -> None:
    settings = Settings(
        kafka_bootstrap_servers="k:9092",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="enrollment",
        kafka_sasl_password="s3cret",  # type: ignore[arg-type]
    )
    connection = KafkaConnection.from_settings(settings)
    options = connection.aiokafka_options()
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("enrollment", "s3cret")
    assert "ssl_context" not in options
    security = connection.faststream_security()
    assert isinstance(security, SASLScram512) and security.username == "enrollment"
    config = connection.librdkafka_config()
    assert config["sasl.mechanism"] == "SCRAM-SHA-512" and config["security.protocol"] == "sasl_plaintext"


def test_tls_builds_a_context_that_verifies_the_broker() -> None:
    connection = KafkaConnection("k:9093", "SASL_SSL", username="a", password="b")
    context = connection.ssl_context()
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert connection.aiokafka_options()["ssl_context"] is not None


def test_settings_that_contradict_each_other_are_refused_before_connecting() -> None:
    with pytest.raises(KafkaSettingsError, match="SASL_USERNAME"):
        KafkaConnection("k:9092", "SASL_PLAINTEXT")
    with pytest.raises(KafkaSettingsError, match="CERTFILE"):
        KafkaConnection("k:9092", "SSL", certfile="client.pem")
    with pytest.raises(KafkaSettingsError, match="KAFKA_BOOTSTRAP_SERVERS"):
        KafkaConnection.from_settings(Settings(kafka_bootstrap_servers=None))


def test_a_left_over_placeholder_is_an_error_not_a_broker_setting() -> None:
    assert render("a=@X@\n", {"X": "1"}) == "a=1\n"
    with pytest.raises(ValueError, match="Y"):
        render("a=@X@\nb=@Y@\n", {"X": "1"})


def test_the_secured_node_authenticates_clients_and_authorises_by_acl(tmp_path: Path) -> None:
    plain = parse_properties(
        node_properties(port=1, controller_port=2, log_dirs=str(tmp_path), secured=False)
    )
    secured = parse_properties(
        node_properties(port=1, controller_port=2, log_dirs=str(tmp_path), secured=True, admin_password="pw")
    )
    assert plain["listeners"] == "PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2"
    assert "authorizer.class.name" not in plain
    assert secured["listeners"] == "SASL_PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2"
    assert secured["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert secured["allow.everyone.if.no.acl.found"] == "false"
    assert secured["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert 'password="pw"' in secured["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    # Both: KRaft, one node, topics only from `lindung topics create`.
    for node in (plain, secured):
        assert node["process.roles"] == "broker,controller"
        assert node["auto.create.topics.enable"] == "false"
