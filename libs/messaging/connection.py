"""How a Kafka client reaches the broker: address and transport security, from settings, once.

Every client Lindung makes (producers, faststream consumers, the admin client, the audit reader,
the CLI) takes its options from one `KafkaConnection`, so a secured cluster (SASL/SCRAM, TLS) is
configured in one place: the `LINDUNG_KAFKA_*` settings (docs/kafka.md).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from libs.settings import Settings


class KafkaSettingsError(ValueError):
    """The `LINDUNG_KAFKA_*` settings contradict each other (said before any connection)."""


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None

    def __post_init__(self) -> None:
        if self.uses_sasl and not (self.username and self.password):
            raise KafkaSettingsError(
                f"LINDUNG_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "LINDUNG_KAFKA_SASL_USERNAME and LINDUNG_KAFKA_SASL_PASSWORD"
            )
        if bool(self.certfile) != bool(self.keyfile):
            raise KafkaSettingsError("LINDUNG_KAFKA_SSL_CERTFILE and LINDUNG_KAFKA_SSL_KEYFILE go together")

    @classmethod
    def from_settings(cls, settings: Settings, bootstrap: str | None = None) -> KafkaConnection:
        """The settings' connection; `bootstrap` overrides the address (a running `lindung up`)."""
        address = bootstrap or settings.kafka_bootstrap_servers
        if not address:
            raise KafkaSettingsError("KAFKA_BOOTSTRAP_SERVERS is not set")
        password = settings.kafka_sasl_password
        return cls(
            bootstrap=address,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password is not None else None,
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
        )

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (the broker's CA, a client certificate if set); None without TLS."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=self.cafile)
        if self.certfile and self.keyfile:
            context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap}
        if self.security_protocol == "PLAINTEXT":
            return options
        options["security_protocol"] = self.security_protocol
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same, as faststream's KafkaBroker takes it."""
        if self.security_protocol == "PLAINTEXT":
            return None
        context = self.ssl_context()
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        assert self.username is not None and self.password is not None
        kind = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}
        return kind[self.sasl_mechanism](
            self.username, self.password, ssl_context=context, use_ssl=self.uses_tls
        )

    def librdkafka_config(self) -> dict[str, str | int | float | bool]:
        """The same for confluent-kafka (librdkafka), as an integrator or the admin tool uses it."""
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.uses_sasl:
            assert self.username is not None and self.password is not None
            config |= {
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": self.username,
                "sasl.password": self.password,
            }
        if self.uses_tls and self.cafile:
            config["ssl.ca.location"] = self.cafile
        if self.certfile and self.keyfile:
            config |= {"ssl.certificate.location": self.certfile, "ssl.key.location": self.keyfile}
        return config
