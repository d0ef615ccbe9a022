"""A regency system sending nominations to Lindung over Kafka, with confluent-kafka (librdkafka).

Copy this file and lindung_wire.py. It publishes one `NominationSubmitted` per worker on
`lindung.nominations.inbound.v1` and reads Lindung's reply to each on
`lindung.nominations.replies.v1` (contract: docs/registry.md, "Kafka: lindung.nominations.inbound.v1";
schemas: docs/schemas/NominationSubmitted.v1.json, NominationAccepted.v1.json, NominationRejected.v1.json).

    pip install confluent-kafka cryptography
    python regency_client.py --bootstrap kafka.lindung.example:9093 --regency 12.17 \\
        --security-protocol sasl_ssl --username regency-12.17 --ca-file lindung-ca.pem \\
        --key-file regency-12.17.pem --key-id regency-12.17.2026-01 nominations.json

`nominations.json` is a JSON list of payloads (the fields of POST /nominations plus `source_ref`,
your own id of the row). Each reply is printed as one JSON line; the exit status is 0 when every
nomination was accepted, 1 when some were not, 2 when some replies did not come in time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from lindung_wire import (
    SAFE_PRODUCER,
    MessageSigner,
    add_connection_arguments,
    add_signing_arguments,
    connection_config,
    decode,
    encode,
    envelope,
    signer_config,
)

INBOUND = "lindung.nominations.inbound.v1"
REPLIES = "lindung.nominations.replies.v1"


class RegencySystem:
    """One regency's system: it may nominate workers of its own regency only (Lindung parks a
    nomination whose `regency_code` is not the sender's and says why)."""

    def __init__(
        self, regency_code: str, connection: dict[str, Any], signer: MessageSigner | None = None
    ) -> None:
        self.regency_code = regency_code
        # Your key: Lindung applies only what it proves you sent.
        self.signer = signer
        # The name Lindung knows the system by, in every envelope's `producer`; with SASL, also
        # the principal the brokers know it by.
        self.producer_name = f"regency-{regency_code}"
        self.connection = connection

    def submit(self, nominations: Iterable[dict[str, Any]]) -> dict[str, str]:
        """Publish each nomination (keyed by its `source_ref`) and wait until the brokers have
        them all; returns each message's `event_id` by `source_ref` (replies name it)."""
        producer = Producer({**self.connection, **SAFE_PRODUCER})
        failures: list[str] = []

        def delivered(error: Any, message: Any) -> None:
            if error is not None:
                failures.append(f"{message.key()!r}: {error}")

        sent: dict[str, str] = {}
        for nomination in nominations:
            ref = str(nomination["source_ref"])
            message = envelope(
                "NominationSubmitted", nomination, producer=self.producer_name, aggregate_id=ref
            )
            value, headers = encode(message, self.signer)
            producer.produce(INBOUND, value=value, key=ref.encode(), headers=headers, on_delivery=delivered)
            producer.poll(0)
            sent[ref] = message["event_id"]
        left = producer.flush(30)
        if left or failures:
            raise KafkaException(f"not delivered: {left} still queued; {failures}")
        return sent

    def replies(
        self, sent: dict[str, str], group_id: str, timeout_s: float = 60.0
    ) -> dict[str, dict[str, Any]]:
        """Lindung's reply (the whole envelope) to each message of `sent`, by `source_ref`.

        Reads with a consumer group of your own: a new group starts at the oldest reply kept, so a
        reply written before you began to read is not missed; offsets are committed once a reply
        is taken, so a restarted reader goes on where it stopped. The topic carries every regency's
        replies: keep those that answer your messages (`request_event_id` = your `event_id`; a
        message Lindung could not even read is answered by its key, in `request_key`).
        """
        wanted_ids = {event_id: ref for ref, event_id in sent.items()}
        found: dict[str, dict[str, Any]] = {}
        consumer = Consumer(
            {
                **self.connection,
                "group.id": group_id,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([REPLIES])
        deadline = time.monotonic() + timeout_s
        try:
            while len(found) < len(sent) and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error() is not None:
                    raise KafkaException(message.error())
                reply = decode(message.value())
                if reply is not None:
                    ref = self._answered(reply, wanted_ids, sent)
                    if ref is not None:
                        found[ref] = reply
                consumer.commit(message=message, asynchronous=False)
        finally:
            consumer.close()
        return found

    def _answered(
        self, reply: dict[str, Any], wanted_ids: dict[str, str], sent: dict[str, str]
    ) -> str | None:
        payload = reply["payload"]
        by_id = wanted_ids.get(str(payload.get("request_event_id")))
        if by_id is not None:
            return by_id
        unread = payload.get("request_key")
        if payload.get("request_event_id") is None and unread in sent:
            return str(unread)
        return None


def outcome(reply: dict[str, Any]) -> dict[str, Any]:
    """One line for a person: the source_ref, accepted or the status, and every reason's code."""
    payload = reply["payload"]
    accepted = reply["event_type"] == "NominationAccepted"
    return {
        "source_ref": payload.get("source_ref") or payload.get("request_key"),
        "status": "accepted" if accepted else payload["status"],
        "nomination_id": payload.get("nomination_id"),
        "repeated": payload.get("repeated", False),
        "reasons": [f"{r['code']}: {r['message']}" for r in payload.get("reasons", [])],
        "notes": [n["code"] for n in payload.get("notes", [])],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_connection_arguments(parser)
    add_signing_arguments(parser)
    parser.add_argument("--regency", required=True, help="your Kemendagri code, e.g. 12.17")
    parser.add_argument("--group", help="consumer group for the replies (default regency-<code>-replies)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the replies")
    parser.add_argument("nominations", type=Path, help="JSON list of NominationSubmitted payloads")
    args = parser.parse_args(argv)
    system = RegencySystem(args.regency, connection_config(args), signer_config(args))
    sent = system.submit(json.loads(args.nominations.read_text(encoding="utf-8")))
    found = system.replies(sent, args.group or f"{system.producer_name}-replies", args.timeout)
    for reply in found.values():
        print(json.dumps(outcome(reply), ensure_ascii=False))
    for ref in sent.keys() - found.keys():
        print(json.dumps({"source_ref": ref, "status": "no reply yet"}), file=sys.stderr)
    if len(found) < len(sent):
        return 2
    return 0 if all(r["event_type"] == "NominationAccepted" for r in found.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
