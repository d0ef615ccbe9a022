"""The dead-letter copy of a consumed message: what is published, and the headers that say
where it came from, why it was parked and what was cut."""

from __future__ import annotations

import hashlib

from aiokafka.structs import ConsumerRecord

from libs.events.signing import SignatureRefused, is_signature_header
from libs.messaging.kafka import MAX_REQUEST_BYTES
from libs.pii import redact_personal_data

# The dead-letter copy of a message travels through our outbox; a copy larger than the relay
# may send would fail for ever and hold back every later row of the outbox. What is larger is
# cut in the copy, which says so in its headers; the `dead_letters` row keeps every byte.
DLQ_MAX_VALUE_BYTES = MAX_REQUEST_BYTES - 64 * 1024  # room for the key, headers and framing
DLQ_MAX_KEY_BYTES = 1024


def dead_letter_copy(key: bytes | None, value: bytes) -> tuple[bytes | None, bytes, list[list[str]]]:
    """The key and value to publish on a dead-letter topic, and the headers saying what was cut."""
    headers: list[list[str]] = []
    if len(value) > DLQ_MAX_VALUE_BYTES:
        headers += [
            ["lindung-value-truncated-from", str(len(value))],
            ["lindung-value-sha256", hashlib.sha256(value).hexdigest()],
        ]
        value = value[:DLQ_MAX_VALUE_BYTES]
    if key is not None and len(key) > DLQ_MAX_KEY_BYTES:
        headers += [["lindung-key-truncated-from", str(len(key))]]
        key = key[:DLQ_MAX_KEY_BYTES]
    return key, value, headers


def error_text(error: BaseException) -> str:
    """Why a message was parked, as kept and published (personal data redacted, bounded)."""
    if isinstance(error, SignatureRefused):
        return f"SignatureRefused: {error.code}: {error.message}"[:2000]
    return redact_personal_data(f"{type(error).__name__}: {error}")[:2000]


def dead_letter_headers(
    record: ConsumerRecord[bytes, bytes], error: BaseException, *, group: str, attempts: int
) -> list[list[str]]:
    """The copy's headers: the sender's (its signature headers renamed: the copy is signed by
    us), then where the message came from and why it was parked."""
    headers = [
        [
            f"lindung-origin-{k.removeprefix('lindung-')}" if is_signature_header(k) else k,
            v.decode(errors="replace"),
        ]
        for k, v in (record.headers or ())
    ]
    headers += [
        ["lindung-error-type", type(error).__name__],
        ["lindung-error", error_text(error)],
        ["lindung-origin-topic", record.topic],
        ["lindung-origin-partition", str(record.partition)],
        ["lindung-origin-offset", str(record.offset)],
        ["lindung-consumer-group", group],
        ["lindung-attempts", str(attempts)],
    ]
    return headers
