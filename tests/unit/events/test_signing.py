"""Signatures over the bytes on the bus: who may be trusted, and why a message is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from libs.events.signing import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_INVALID,
    SIGNATURE_KEY_UNKNOWN,
    SIGNATURE_MISSING,
    SIGNATURE_WRONG_PRODUCER,
    Keyring,
    SignatureRefused,
    Signer,
    check_producer,
    keyring_json,
)

VALUE = b'{"producer":"bpjs","payload":{"amount":42000000}}'


@pytest.fixture(scope="module")
def bpjs() -> Signer:
    return Signer.generate("bpjs-2026-01")


@pytest.fixture(scope="module")
def keyring(bpjs: Signer) -> Keyring:
    return Keyring.parse(keyring_json([bpjs.trusted("bpjs")]))


def refusal(keyring: Keyring, value: bytes, headers: list[tuple[str, bytes]] | None) -> str:
    with pytest.raises(SignatureRefused) as refused:
        keyring.verify(value, headers)
    assert refused.value.message  # officers get a sentence, systems the code
    return refused.value.code


def test_a_signed_message_names_its_key(bpjs: Signer, keyring: Keyring) -> None:
    key = keyring.verify(VALUE, bpjs.headers(VALUE))
    assert (key.key_id, key.producer) == ("bpjs-2026-01", "bpjs")
    check_producer(key, "bpjs")


def test_unsigned_unknown_and_altered_messages_are_refused(bpjs: Signer, keyring: Keyring) -> None:
    assert refusal(keyring, VALUE, None) == SIGNATURE_MISSING
    assert refusal(keyring, VALUE, [(KEY_ID_HEADER, b"bpjs-2026-01")]) == SIGNATURE_MISSING
    stranger = Signer.generate("bpjs-2026-01-forged")
    assert refusal(keyring, VALUE, stranger.headers(VALUE)) == SIGNATURE_KEY_UNKNOWN
    altered = VALUE.replace(b"42000000", b"92000000")
    assert refusal(keyring, altered, bpjs.headers(VALUE)) == SIGNATURE_INVALID
    # Another key claiming the known key id: the signature does not verify.
    impostor = Signer.generate("bpjs-2026-01")
    assert refusal(keyring, VALUE, impostor.headers(VALUE)) == SIGNATURE_INVALID
    garbage = [(KEY_ID_HEADER, b"bpjs-2026-01"), (SIGNATURE_HEADER, b"not base64 !")]
    assert refusal(keyring, VALUE, garbage) == SIGNATURE_INVALID


def test_a_key_speaks_for_its_producer_only(bpjs: Signer, keyring: Keyring) -> None:
    key = keyring.verify(VALUE, bpjs.headers(VALUE))
    with pytest.raises(SignatureRefused) as refused:
        check_producer(key, "claims")
    assert refused.value.code == SIGNATURE_WRONG_PRODUCER


def test_during_a_rotation_both_keys_verify(bpjs: Signer) -> None:
    new = Signer.generate("bpjs-2026-07")
    keyring = Keyring.parse(keyring_json([bpjs.trusted("bpjs"), new.trusted("bpjs")]))
    assert keyring.verify(VALUE, bpjs.headers(VALUE)).key_id == "bpjs-2026-01"
    assert keyring.verify(VALUE, new.headers(VALUE)).key_id == "bpjs-2026-07"
    after = Keyring.parse(keyring_json([new.trusted("bpjs")]))
    assert refusal(after, VALUE, bpjs.headers(VALUE)) == SIGNATURE_KEY_UNKNOWN


def test_a_private_key_round_trips_through_its_pem_file(tmp_path: Path, bpjs: Signer) -> None:
    path = tmp_path / "keys" / "bpjs.pem"
    bpjs.write_private(path)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = Signer.load("bpjs-2026-01", path)
    assert loaded.signature(VALUE) == bpjs.signature(VALUE)  # Ed25519 is deterministic


def test_a_bad_keyring_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="twice"):
        key = Signer.generate("k").trusted("registry")
        Keyring([key, key])
    short = base64.b64encode(b"x" * 31).decode()
    with pytest.raises(ValueError, match="32 bytes"):
        entry = {"key_id": "k", "producer": "registry", "public_key": short}
        Keyring.parse(json.dumps({"keys": [entry]}))
    with pytest.raises(ValueError, match="not valid"):
        Keyring.parse('{"keys": [{"key_id": "k"}]}')
