"""What every message to or from Lindung looks like on Kafka, for systems outside Lindung.

Copy this file beside `regency_client.py` or `bpjs_client.py`; it needs only the standard library
and `cryptography` (to sign; confluent-kafka for the connection settings it builds). The contract
it follows:
docs/registry.md ("Kafka: lindung.nominations.inbound.v1"), docs/bpjs-contract.md ("The envelope"),
docs/schemas/Envelope.json.

- The value is one UTF-8 JSON object, the envelope; the message itself is its `payload`.
- The key is a UTF-8 string (your `source_ref` for nominations; the request's key for BPJS answers).
- Headers `event_type`, `schema_version`, `producer` repeat the envelope's values, so a reader can
  route without parsing. Lindung reads the envelope, not the headers.
- Every message is signed (docs/integrators/README.md, "Signing"): header `lindung-key-id` names
  your key as Lindung's keyring lists it, header `lindung-signature` is the base64 of the Ed25519
  signature over the value's bytes exactly as sent. Lindung parks an unsigned message, one signed
  by a key it does not know, and one whose `producer` is not the key's.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_ID_HEADER = "lindung-key-id"
SIGNATURE_HEADER = "lindung-signature"


class MessageSigner:
    """Your system's Ed25519 private key and the key id Lindung's keyring gives it.

    Make the key with `openssl genpkey -algorithm ed25519 -out my-key.pem` (keep it secret) and
    send Lindung the public half (`openssl pkey -in my-key.pem -pubout`); Lindung tells you the
    key id it lists the key under."""

    def __init__(self, key_id: str, private_key: Ed25519PrivateKey) -> None:
        self.key_id = key_id
        self.private_key = private_key

    @classmethod
    def load(cls, key_id: str, pem_file: str | Path) -> MessageSigner:
        key = serialization.load_pem_private_key(Path(pem_file).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{pem_file} is not an Ed25519 private key")
        return cls(key_id, key)

    def headers(self, value: bytes) -> list[tuple[str, bytes]]:
        """The two headers that sign `value` (the exact bytes you produce)."""
        signature = base64.b64encode(self.private_key.sign(value))
        return [(KEY_ID_HEADER, self.key_id.encode()), (SIGNATURE_HEADER, signature)]


def envelope(
    event_type: str,
    payload: dict[str, Any],
    *,
    producer: str,
    aggregate_id: str,
    aggregate_version: int = 1,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> dict[str, Any]:
    """A new envelope (a fresh `event_id`: one per message you write, never reused).

    Every field is required by Lindung (the envelope refuses unknown fields too): `schema_version`
    is the payload contract's version (1 for every foreign message today), `occurred_at` an ISO
    8601 instant WITH its zone, `aggregate_id` 1-200 characters, `aggregate_version` >= 1,
    `correlation_id` a UUID (a new one starts a business flow; an answer echoes the request's),
    `causation_id` a UUID or null (an answer names the request's `event_id`), `producer` 1-100
    characters naming your system as Lindung knows it.
    """
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "aggregate_id": aggregate_id,
        "aggregate_version": aggregate_version,
        "correlation_id": correlation_id or str(uuid.uuid4()),
        "causation_id": causation_id,
        "producer": producer,
        "payload": payload,
    }


def encode(
    message: dict[str, Any], signer: MessageSigner | None = None
) -> tuple[bytes, list[tuple[str, str | bytes | None]]]:
    """The value and headers to produce for an envelope, signed when `signer` is given (Lindung
    refuses unsigned messages outside development)."""
    value = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    headers: list[tuple[str, str | bytes | None]] = [
        ("event_type", str(message["event_type"]).encode()),
        ("schema_version", str(message["schema_version"]).encode()),
        ("producer", str(message["producer"]).encode()),
    ]
    if signer is not None:
        headers += signer.headers(value)  # over these very bytes: never re-serialise after this
    return value, headers


def decode(value: bytes | None) -> dict[str, Any] | None:
    """The envelope in a consumed value, or None when it is not one (skip it; do not crash)."""
    try:
        found = json.loads(value or b"")
    except ValueError:
        return None
    if not isinstance(found, dict) or not isinstance(found.get("payload"), dict):
        return None
    return found


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Command-line options for where the brokers are and how to log in (SASL/SCRAM over TLS in
    production; the password is read from an environment variable, never from the command line)."""
    parser.add_argument("--bootstrap", required=True, help="host:port[,host:port...]")
    parser.add_argument(
        "--security-protocol",
        default="plaintext",
        choices=["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"],
    )
    parser.add_argument("--sasl-mechanism", default="SCRAM-SHA-512")
    parser.add_argument("--username", help="your principal, e.g. regency-12.17 or bpjs")
    parser.add_argument(
        "--password-env", default="LINDUNG_KAFKA_PASSWORD", help="environment variable holding the password"
    )
    parser.add_argument("--ca-file", help="PEM file of the CA that signed the brokers' certificates")


def add_signing_arguments(parser: argparse.ArgumentParser) -> None:
    """Command-line options for your signing key (both, or neither for a development stack that
    does not check signatures)."""
    parser.add_argument("--key-file", type=Path, help="your Ed25519 private key (PEM)")
    parser.add_argument("--key-id", help="the id Lindung's keyring lists your key under")


def signer_config(args: argparse.Namespace) -> MessageSigner | None:
    """The signer of `add_signing_arguments`' options, or None when neither is given."""
    if not args.key_file and not args.key_id:
        return None
    if not args.key_file or not args.key_id:
        raise SystemExit("--key-file and --key-id go together")
    return MessageSigner.load(args.key_id, args.key_file)


def connection_config(args: argparse.Namespace) -> dict[str, Any]:
    """librdkafka settings from `add_connection_arguments`' options."""
    config: dict[str, Any] = {
        "bootstrap.servers": args.bootstrap,
        "security.protocol": args.security_protocol,
    }
    if args.security_protocol.startswith("sasl"):
        config |= {
            "sasl.mechanism": args.sasl_mechanism,
            "sasl.username": args.username,
            "sasl.password": os.environ[args.password_env],
        }
    if args.ca_file:
        config["ssl.ca.location"] = args.ca_file
    return config


# Producer settings for every foreign system: a message is acknowledged only once every in-sync
# replica has it, and librdkafka's retries never write it twice or out of order.
SAFE_PRODUCER = {"enable.idempotence": True, "acks": "all"}
