"""The dead-letter copy of a consumed message: its headers say where it came from and why it was
parked (the sender's signature kept under another name), and what does not fit is cut."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from libs.events.signing import KEY_ID_HEADER, SIGNATURE_HEADER, SignatureRefused
from libs.messaging.dead_letters import DLQ_MAX_VALUE_BYTES, dead_letter_copy, dead_letter_headers, error_text


def _record(headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="lindung.registry.v1",
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b"{}",
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=2,
        headers=headers,
    )


def test_the_copy_says_where_from_and_why_and_renames_the_senders_signature() -> None:
    record = _record([(KEY_ID_HEADER, b"regency-12.17"), (SIGNATURE_HEADER, b"c2ln"), ("trace", b"x")])
    headers = dict(dead_letter_headers(record, ValueError("bad"), group="registry", attempts=3))
    assert headers["lindung-origin-key-id"] == "regency-12.17"
    assert headers["lindung-origin-signature"] == "c2ln"
    assert KEY_ID_HEADER not in headers and SIGNATURE_HEADER not in headers
    assert headers["trace"] == "x"
    assert headers["lindung-error-type"] == "ValueError"
    assert headers["lindung-error"] == "ValueError: bad"
    assert headers["lindung-origin-topic"] == "lindung.registry.v1"
    assert (headers["lindung-origin-partition"], headers["lindung-origin-offset"]) == ("2", "41")
    assert (headers["lindung-consumer-group"], headers["lindung-attempts"]) == ("registry", "3")


def test_a_refused_signature_is_told_by_its_code() -> None:
    refused = SignatureRefused("SIGNATURE_INVALID", "the signature does not match", {"key_id": "k1"})
    assert error_text(refused) == "SignatureRefused: SIGNATURE_INVALID: the signature does not match"


def test_what_does_not_fit_is_cut_and_said() -> None:
    key, value, cut = dead_letter_copy(b"k" * 2000, b"v" * (DLQ_MAX_VALUE_BYTES + 10))
    assert key is not None and len(key) == 1024
    assert len(value) == DLQ_MAX_VALUE_BYTES
    said = dict(cut)
    assert said["lindung-value-truncated-from"] == str(DLQ_MAX_VALUE_BYTES + 10)
    assert said["lindung-key-truncated-from"] == "2000"
    assert dead_letter_copy(b"k", b"v") == (b"k", b"v", [])
