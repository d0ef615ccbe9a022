"""Who really sent a message: Ed25519 signatures over the exact bytes on the bus.

The envelope's `producer` is a claim anyone with write access to a topic can make; a signature
proves it. Every producer (each Lindung service, each regency system, BPJS's gateway) holds one
private key; every consumer holds the keyring, the public keys and whom each speaks for.

A message carries two Kafka headers: `lindung-key-id` (which key signed) and `lindung-signature`
(base64 of the Ed25519 signature over the record's value bytes, exactly as sent). Signing the
bytes, not a canonical re-serialisation, lets any client (librdkafka, Java, kcat with a signature
computed by openssl) sign what it sends, and lets the consumer check the signature before it
parses anything. Once parsed, the envelope's `producer` must be the key's producer.

Rotation: a keyring may hold several keys of one producer; the producer switches to the new key,
and the old one is removed from the keyring once nothing signed with it is left to read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEY_ID_HEADER = "lindung-key-id"
SIGNATURE_HEADER = "lindung-signature"

SIGNATURE_MISSING = "SIGNATURE_MISSING"
SIGNATURE_KEY_UNKNOWN = "SIGNATURE_KEY_UNKNOWN"
SIGNATURE_INVALID = "SIGNATURE_INVALID"
SIGNATURE_WRONG_PRODUCER = "SIGNATURE_WRONG_PRODUCER"

Headers = Sequence[tuple[str, bytes]]
# A key id names the key's PEM file too (`<key id>.pem`): no "/" can be part of it.
KEY_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"


class SignatureRefused(Exception):
    """A message whose signature does not prove its sender: parked, never applied.

    `code` is stable (SIGNATURE_*); `message` is for officers (Indonesian); `details` names the
    key id and producer concerned, never the payload.
    """

    def __init__(self, code: str, message: str, details: Mapping[str, str]) -> None:
        super().__init__(f"{code}: {dict(details)}")
        self.code = code
        self.message = message
        self.details = dict(details)


class KeyringEntry(BaseModel):
    """One public key of the keyring file: its id, whom it speaks for, the raw key (base64)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(min_length=1, max_length=100, pattern=KEY_ID_PATTERN)
    producer: str = Field(min_length=1, max_length=100)
    public_key: str = Field(description="The 32-byte Ed25519 public key, base64.")


class KeyringFile(BaseModel):
    """The keyring file (`LINDUNG_EVENT_KEYRING_FILE`): `{"keys": [KeyringEntry, ...]}`."""

    model_config = ConfigDict(extra="forbid")

    keys: list[KeyringEntry]


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    producer: str
    public_key: Ed25519PublicKey


def public_key_text(key: Ed25519PublicKey) -> str:
    """The base64 of a public key's 32 raw bytes, as the keyring file writes it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the 32 raw public key bytes, hex: what two people compare over the phone
    (`openssl pkey -in KEY.pem -pubout -outform DER | tail -c 32 | sha256sum` prints it too)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    """The Ed25519 public key of a PEM file (`openssl pkey -in KEY.pem -pubout` writes one)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _public_key(text: str, key_id: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"key {key_id}: public_key is not a base64 Ed25519 public key (32 bytes)") from exc


class Keyring:
    """The public keys a consumer trusts, by key id."""

    def __init__(self, keys: Iterable[TrustedKey]) -> None:
        self._keys: dict[str, TrustedKey] = {}
        for key in keys:
            if key.key_id in self._keys:
                raise ValueError(f"key id {key.key_id} appears twice in the keyring")
            self._keys[key.key_id] = key

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """A keyring from the JSON text of a keyring file; raises ValueError naming what is wrong."""
        try:
            parsed = KeyringFile.model_validate_json(text)
        except ValidationError as exc:
            raise ValueError(f"the keyring file is not valid: {exc.errors(include_input=False)}") from exc
        return cls(TrustedKey(e.key_id, e.producer, _public_key(e.public_key, e.key_id)) for e in parsed.keys)

    @classmethod
    def load(cls, path: str | Path) -> Keyring:
        return cls.parse(Path(path).read_text(encoding="utf-8"))

    def __len__(self) -> int:
        return len(self._keys)

    def entries(self) -> tuple[TrustedKey, ...]:
        """The keys in the order the keyring file lists them."""
        return tuple(self._keys.values())

    def producers(self) -> frozenset[str]:
        return frozenset(k.producer for k in self._keys.values())

    def to_json(self) -> str:
        entries = [
            KeyringEntry(key_id=k.key_id, producer=k.producer, public_key=public_key_text(k.public_key))
            for k in self._keys.values()
        ]
        return KeyringFile(keys=entries).model_dump_json(indent=2)

    def verify(self, value: bytes, headers: Headers | None) -> TrustedKey:
        """The key that signed `value`; raises SignatureRefused when no trusted key did.

        The caller still checks, after parsing, that the envelope's producer is `key.producer`
        (`check_producer`)."""
        found = {name: raw for name, raw in headers or () if name in (KEY_ID_HEADER, SIGNATURE_HEADER)}
        if KEY_ID_HEADER not in found or SIGNATURE_HEADER not in found:
            raise SignatureRefused(
                SIGNATURE_MISSING,
                "Pesan tidak bertanda tangan: pengirim harus menandatangani setiap pesan "
                f"(header {KEY_ID_HEADER} dan {SIGNATURE_HEADER}).",
                {},
            )
        key_id = found[KEY_ID_HEADER].decode("utf-8", "replace")[:100]
        key = self._keys.get(key_id)
        if key is None:
            raise SignatureRefused(
                SIGNATURE_KEY_UNKNOWN,
                f"Kunci tanda tangan '{key_id}' tidak dikenal (tidak ada di keyring Lindung).",
                {"key_id": key_id},
            )
        try:
            signature = base64.b64decode(found[SIGNATURE_HEADER], validate=True)
            key.public_key.verify(signature, value)
        except (binascii.Error, ValueError, InvalidSignature) as exc:
            raise SignatureRefused(
                SIGNATURE_INVALID,
                f"Tanda tangan pesan tidak cocok dengan kunci '{key_id}': pesan diubah atau dipalsukan.",
                {"key_id": key_id, "producer": key.producer},
            ) from exc
        return key


def check_producer(key: TrustedKey, producer: str) -> None:
    """Raise SignatureRefused when the envelope claims a producer other than the key's."""
    if producer != key.producer:
        raise SignatureRefused(
            SIGNATURE_WRONG_PRODUCER,
            f"Pesan ditandatangani dengan kunci milik '{key.producer}' tetapi mengaku dikirim "
            f"oleh '{producer[:100]}'.",
            {"key_id": key.key_id, "producer": key.producer, "claimed": producer[:100]},
        )


@dataclass(frozen=True)
class Signer:
    """A producer's private key and the id its keyring entry has."""

    key_id: str
    private_key: Ed25519PrivateKey

    @classmethod
    def load(cls, key_id: str, path: str | Path) -> Signer:
        """The PEM (PKCS#8) private key in `path`, as `lindung keys generate` or
        `openssl genpkey -algorithm ed25519` writes it."""
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key_id, key)

    @classmethod
    def generate(cls, key_id: str) -> Signer:
        return cls(key_id, Ed25519PrivateKey.generate())

    def signature(self, value: bytes) -> str:
        return base64.b64encode(self.private_key.sign(value)).decode()

    def headers(self, value: bytes) -> list[tuple[str, bytes]]:
        """The two headers that sign `value`."""
        return [(KEY_ID_HEADER, self.key_id.encode()), (SIGNATURE_HEADER, self.signature(value).encode())]

    def trusted(self, producer: str) -> TrustedKey:
        """This key's keyring entry, speaking for `producer`."""
        return TrustedKey(self.key_id, producer, self.private_key.public_key())

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write_private(self, path: Path) -> None:
        """Write the private key readable by its owner only (0600 from the first byte)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(self.private_pem())


def keyring_json(keys: Iterable[TrustedKey]) -> str:
    """The keyring file's text for `keys` (what `lindung keys` writes)."""
    return Keyring(keys).to_json()


def is_signature_header(name: str) -> bool:
    return name in (KEY_ID_HEADER, SIGNATURE_HEADER)


# --- keys on disk: `lindung keys`, `lindung up`, and the processes that load them ---------------


def key_file(directory: Path, key_id: str) -> Path:
    """Where `lindung keys generate` writes the private key `key_id`: `<directory>/<key id>.pem`."""
    if not re.fullmatch(KEY_ID_PATTERN, key_id) or key_id in (".", ".."):
        raise ValueError(f"key id {key_id!r}: letters, digits and . _ : - only (it names a file)")
    return directory / f"{key_id}.pem"


def remove_from_keyring(keyring_file: Path, key_id: str) -> TrustedKey:
    """Remove key `key_id` from the keyring file (the end of a rotation); returns the key."""
    keys = list(Keyring.load(keyring_file).entries())
    found = [k for k in keys if k.key_id == key_id]
    if not found:
        raise ValueError(f"no key {key_id} in {keyring_file}")
    keyring_file.write_text(keyring_json(k for k in keys if k.key_id != key_id) + "\n", encoding="utf-8")
    return found[0]


def add_to_keyring(keyring_file: Path, key: TrustedKey) -> None:
    """Add `key` to the keyring file (created when missing); a key id already there is refused."""
    keys = list(Keyring.load(keyring_file).entries()) if keyring_file.exists() else []
    keyring_file.parent.mkdir(parents=True, exist_ok=True)
    # Keyring() refuses a key id twice before anything is written.
    keyring_file.write_text(keyring_json([*keys, key]) + "\n", encoding="utf-8")


def generate_key(directory: Path, producer: str, key_id: str, keyring_file: Path | None) -> Signer:
    """A new key of `producer`: its private PEM (0600) in `directory`, its public key added to
    `keyring_file` (when given). An existing key file is never overwritten."""
    path = key_file(directory, key_id)
    if path.exists():
        raise ValueError(f"{path} exists already: a key is never overwritten (choose a new key id)")
    signer = Signer.generate(key_id)
    if keyring_file is not None:
        add_to_keyring(keyring_file, signer.trusted(producer))
    signer.write_private(path)
    return signer


def load_signer(key_file_path: str | None, key_id: str | None) -> Signer | None:
    """The signer the settings name (`event_signing_key_file`, `event_signing_key_id`), or None
    when neither is set; one without the other is a configuration error."""
    if not key_file_path and not key_id:
        return None
    if not key_file_path or not key_id:
        raise ValueError(
            "LINDUNG_EVENT_SIGNING_KEY_FILE and LINDUNG_EVENT_SIGNING_KEY_ID are set together or not at all"
        )
    return Signer.load(key_id, key_file_path)


def load_keyring(path: str | None) -> Keyring | None:
    """The keyring the settings name (`event_keyring_file`), or None (signatures not checked)."""
    return Keyring.load(path) if path else None


def signers_in(directory: Path, keyring: Keyring) -> dict[str, Signer]:
    """The signer of each producer whose private key is in `directory` (`<key id>.pem`), by
    producer; of two keys of one producer (a rotation), the one listed last in the keyring."""
    found: dict[str, Signer] = {}
    for key in keyring.entries():
        path = directory / f"{key.key_id}.pem"
        if path.exists():
            found[key.producer] = Signer.load(key.key_id, path)
    return found


DEV_KEYRING = "keyring.json"


def dev_keys(directory: Path, producers: Iterable[str]) -> Path:
    """Development keys (`lindung up`): one key `<producer>.dev` per producer in `directory`,
    made once and kept; returns the keyring file, which lists them all."""
    keyring_file = directory / DEV_KEYRING
    present = Keyring.load(keyring_file).producers() if keyring_file.exists() else frozenset()
    for producer in producers:
        if producer not in present:
            generate_key(directory, producer, dev_key_id(producer), keyring_file)
    return keyring_file


def dev_key_id(producer: str) -> str:
    return f"{producer}.dev"
