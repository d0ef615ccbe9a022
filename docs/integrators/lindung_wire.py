"""What every message to or from Lindung looks like on Kafka, for systems outside Lindung.

Copy this file beside `regency_client.py` or `bpjs_client.py`; it needs only the standard library
(and confluent-kafka for the connection settings it builds). The contract it follows:
docs/registry.md ("Kafka: lindung.nominations.inbound.v1"), docs/bpjs-contract.md ("The envelope"),
docs/schemas/Envelope.json.

- The value is one UTF-8 JSON object, the envelope; the message itself is its `payload`.
- The key is a UTF-8 string (your `source_ref` for nominations; the request's key for BPJS answers).
- Headers `event_type`, `schema_version`, `producer` repeat the envelope's values, so a reader can
  route without parsing. Lindung reads the envelope, not the headers.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any


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


def encode(message: dict[str, Any]) -> tuple[bytes, list[tuple[str, str | bytes | None]]]:
    """The value and headers to produce for an envelope."""
    value = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    headers: list[tuple[str, str | bytes | None]] = [
        ("event_type", str(message["event_type"]).encode()),
        ("schema_version", str(message["schema_version"]).encode()),
        ("producer", str(message["producer"]).encode()),
    ]
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
