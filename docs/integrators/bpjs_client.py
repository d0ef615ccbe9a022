"""BPJS Ketenagakerjaan's gateway to Lindung over Kafka, with confluent-kafka (librdkafka).

Copy this file and lindung_wire.py. It reads `RegistrationRequested` from `lindung.bpjs.requests.v1`
and answers `RegistrationAccepted` or `RegistrationRejected` on `lindung.bpjs.results.v1`
(contract: docs/bpjs-contract.md; schemas: docs/schemas/RegistrationRequested.v1.json,
RegistrationAccepted.v1.json, RegistrationRejected.v1.json).

    pip install confluent-kafka cryptography
    python bpjs_client.py --bootstrap kafka.lindung.example:9093 \\
        --security-protocol sasl_ssl --username bpjs --ca-file lindung-ca.pem \\
        --key-file bpjs.pem --key-id bpjs.2026-01

The rules the contract asks of BPJS, and where this example keeps them:
- the same `request_id` gets the same decision whatever the `attempt` (`decisions`; a real
  gateway keeps them in its database, not in memory);
- every answer echoes the request's `attempt`, `request_id` and `worker_id`, is keyed like the
  request, and names it (`causation_id` = its `event_id`, `correlation_id` echoed);
- the request's offset is committed only after the answer is acknowledged, so a crash answers
  again rather than never (Lindung ignores the duplicate);
- `retryable: true` only when the same request may succeed later (Dukcapil down).
Premium payments (`PremiumPaymentRequested`) and stop-payments (`DeregistrationRequested`) travel
on the same topics and are answered the same way; this example leaves them to you (it logs them).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
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

REQUESTS = "lindung.bpjs.requests.v1"
RESULTS = "lindung.bpjs.results.v1"
PRODUCER = "bpjs"  # the name Lindung allows on lindung.bpjs.results.v1

log = logging.getLogger("bpjs_client")

# Who Dukcapil knows: a real gateway asks Dukcapil; returns True (known), False (unknown NIK) or
# None (Dukcapil cannot be reached: a retryable refusal).
Dukcapil = Callable[[dict[str, Any]], bool | None]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class BpjsGateway:
    """Answers registration requests: accepted with a KPJ (one per NIK, for life), or refused."""

    def __init__(
        self,
        connection: dict[str, Any],
        *,
        group_id: str = "bpjs-gateway",
        dukcapil: Dukcapil = lambda identity: True,
        age_limits: tuple[int, int] = (15, 65),
        signer: MessageSigner | None = None,
    ) -> None:
        self.connection = connection
        # BPJS's key: Lindung applies only the answers it proves BPJS sent.
        self.signer = signer
        self.group_id = group_id
        self.dukcapil = dukcapil
        self.age_limits = age_limits
        self.decisions: dict[str, tuple[str, dict[str, Any]]] = {}  # request_id -> (event type, payload)
        self.kpj_of_nik: dict[str, str] = {}
        self._serials = itertools.count(1)
        self.answered: list[dict[str, Any]] = []  # every answer sent, oldest first

    def decide(self, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The answer's event type and payload (without `attempt`) for a RegistrationRequested
        payload: the same for every attempt of one `request_id`, once decided finally."""
        earlier = self.decisions.get(request["request_id"])
        if earlier is not None:
            return earlier
        identity = request["identity"]
        base = {"request_id": request["request_id"], "worker_id": request["worker_id"]}

        def refused(code: str, reason: str, retryable: bool = False) -> tuple[str, dict[str, Any]]:
            return "RegistrationRejected", {
                **base,
                "reason_code": code,
                "reason": reason,
                "retryable": retryable,
            }

        known = self.dukcapil(identity)
        if known is None:  # not kept: the next attempt asks Dukcapil again
            return refused(
                "DUKCAPIL_UNAVAILABLE",
                "Layanan verifikasi data kependudukan (Dukcapil) sedang tidak dapat dihubungi; coba lagi.",
                retryable=True,
            )
        low, high = self.age_limits
        start = date.fromisoformat(request["coverage_start"])
        age = age_on(date.fromisoformat(identity["birth_date"]), start)
        if not known:
            decision = refused("NIK_NOT_FOUND", "NIK tidak ditemukan di data kependudukan (Dukcapil).")
        elif not low <= age <= high:
            decision = refused(
                "AGE_OUT_OF_RANGE", f"Usia peserta {age} tahun di luar batas BPU ({low}-{high} tahun)."
            )
        else:
            nik = identity["nik"]
            continued = nik in self.kpj_of_nik
            kpj = self.kpj_of_nik.setdefault(nik, f"KPJ{next(self._serials):011d}")
            registered_at = datetime.now(UTC).isoformat()
            accepted = {"kpj": kpj, "registered_at": registered_at, "continued": continued}
            decision = "RegistrationAccepted", {**base, **accepted}
        self.decisions[request["request_id"]] = decision
        return decision

    def answer(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The envelope answering a request envelope, or None for what this example leaves to you."""
        if request["event_type"] != "RegistrationRequested":
            log.warning("not answered by this example: %s %s", request["event_type"], request["event_id"])
            return None
        event_type, payload = self.decide(request["payload"])
        attempt = request["payload"]["attempt"]
        return envelope(
            event_type,
            payload | {"attempt": attempt},
            producer=PRODUCER,
            aggregate_id=f"bpjs-registration-{payload['request_id']}",
            aggregate_version=attempt,
            correlation_id=request["correlation_id"],
            causation_id=request["event_id"],
        )

    def serve(self, stop: threading.Event, poll_s: float = 0.2) -> None:
        """Answer requests until `stop` is set (from another thread, or a signal handler)."""
        producer = Producer({**self.connection, **SAFE_PRODUCER})
        consumer = Consumer(
            {
                **self.connection,
                "group.id": self.group_id,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([REQUESTS])
        try:
            while not stop.is_set():
                message = consumer.poll(poll_s)
                if message is None:
                    continue
                if message.error() is not None:
                    raise KafkaException(message.error())
                request = decode(message.value())
                reply = self.answer(request) if request is not None else None
                if reply is not None:
                    value, headers = encode(reply, self.signer)
                    producer.produce(RESULTS, value=value, key=message.key(), headers=headers)
                    if producer.flush(30):
                        raise KafkaException("answer not acknowledged by the brokers in 30 s")
                    self.answered.append(reply)
                consumer.commit(message=message, asynchronous=False)
        finally:
            consumer.close()
            producer.flush(10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_connection_arguments(parser)
    add_signing_arguments(parser)
    parser.add_argument("--group", default="bpjs-gateway", help="consumer group of the gateway")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    stop = threading.Event()
    try:
        BpjsGateway(connection_config(args), group_id=args.group, signer=signer_config(args)).serve(stop)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
