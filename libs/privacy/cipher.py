"""Field encryption for crypto-shredding (docs/security.md, "Forgetting a person"). Pure: no I/O.

Every person (subject: the worker id, the pseudonymous HMAC of the NIK) has a data key of their
own; their personal fields are stored as AES-256-GCM ciphertexts under it. Destroying the key
forgets the person: the ciphertexts stay (the hash chains of the event stores cover them, so
`lindung audit verify` still passes) but nobody can read them again.

- A data key is wrapped (AES-256-GCM) by the master key before it is stored; the wrapping is
  bound to the subject and the key's generation (AAD), so a wrapped key copied to another
  subject does not open.
- A field's ciphertext is bound to the subject, the field name and the key's generation (AAD): a
  ciphertext moved to another field or person does not open. Its text form names itself:
  `enc:v1:<generation>:<base64url(nonce ‖ ciphertext ‖ tag)>`.
- A person forgotten and nominated again gets a key of the next generation: what was written
  under the destroyed one stays unreadable (`FORGOTTEN`), what comes after reads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.pii import FORGOTTEN

PREFIX = "enc:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
_WRAP_CONTEXT = b"lindung-data-key:v1"


class CipherError(ValueError):
    """A ciphertext or key that is malformed, or does not open under the key given."""


def new_data_key() -> bytes:
    """A fresh random AES-256 key."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


@dataclass(frozen=True)
class MasterKey:
    """The key that wraps every data key (LINDUNG_PRIVACY_MASTER_KEY), and its short id."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise CipherError(f"the master key must be {KEY_BYTES} bytes, not {len(self.secret)}")

    @classmethod
    def parse(cls, text: str) -> MasterKey:
        """A master key from its setting: 64 hex digits, or base64 of 32 bytes."""
        text = text.strip()
        try:
            secret = (
                bytes.fromhex(text) if len(text) == KEY_BYTES * 2 else base64.b64decode(text, validate=True)
            )
        except ValueError as exc:
            raise CipherError("the master key is neither 64 hex digits nor base64") from exc
        return cls(secret)

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(os.urandom(KEY_BYTES))

    def text(self) -> str:
        """The setting's form (hex)."""
        return self.secret.hex()

    @property
    def key_id(self) -> str:
        """Names the master key a data key was wrapped with (for rotation), not the key itself."""
        return hashlib.sha256(b"lindung-master-key-id\0" + self.secret).hexdigest()[:16]

    def wrap(self, subject: str, generation: int, data_key: bytes) -> bytes:
        """`data_key` encrypted for storage: nonce ‖ ciphertext ‖ tag."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.secret).encrypt(nonce, data_key, _wrap_aad(subject, generation))

    def unwrap(self, subject: str, generation: int, wrapped: bytes) -> bytes:
        """The data key `wrap` stored; CipherError if it was wrapped for someone else or altered."""
        try:
            key = AESGCM(self.secret).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(subject, generation)
            )
        except InvalidTag as exc:
            raise CipherError(f"the data key of {subject} does not open under this master key") from exc
        return key


def _wrap_aad(subject: str, generation: int) -> bytes:
    return b"\0".join((_WRAP_CONTEXT, subject.encode(), str(generation).encode()))


@dataclass(frozen=True)
class DataKey:
    """One subject's data key of one generation, unwrapped (held in memory only)."""

    subject: str
    generation: int
    secret: bytes

    def _aad(self, field: str) -> bytes:
        return b"\0".join((self.subject.encode(), field.encode(), str(self.generation).encode()))

    def encrypt(self, field: str, value: str) -> str:
        """`value` of `field` as its ciphertext text form."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + AESGCM(self.secret).encrypt(nonce, value.encode(), self._aad(field))
        return f"{PREFIX}{self.generation}:{base64.urlsafe_b64encode(sealed).decode()}"

    def decrypt(self, field: str, text: str) -> str:
        """The clear value of a ciphertext of `field`; FORGOTTEN when it was written under another
        generation (a destroyed key); CipherError when it is malformed or does not authenticate."""
        generation, sealed = _parse(text)
        if generation != self.generation:
            return FORGOTTEN
        try:
            clear = AESGCM(self.secret).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self._aad(field))
        except InvalidTag as exc:
            raise CipherError(f"the {field} of {self.subject} does not authenticate") from exc
        return clear.decode()


def is_encrypted(value: object) -> bool:
    """Whether `value` is a field ciphertext (text form)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def _parse(text: str) -> tuple[int, bytes]:
    if not is_encrypted(text):
        raise CipherError("not a field ciphertext")
    generation, _, body = text[len(PREFIX) :].partition(":")
    try:
        sealed = base64.urlsafe_b64decode(body.encode())
        number = int(generation)
    except ValueError as exc:
        raise CipherError("a malformed field ciphertext") from exc
    if len(sealed) < NONCE_BYTES + 16:
        raise CipherError("a field ciphertext too short to hold nonce and tag")
    return number, sealed


def _as_text(value: object) -> str:
    # Personal fields are texts in a payload's JSON form (a birth date is "YYYY-MM-DD").
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _walk(value: Any, fields: frozenset[str], apply: Callable[[str, Any], Any]) -> Any:
    if isinstance(value, dict):
        return {
            key: apply(key, item) if key in fields and item is not None else _walk(item, fields, apply)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_walk(item, fields, apply) for item in value]
    return value


def seal_payload(payload: dict[str, Any], key: DataKey, fields: Iterable[str]) -> dict[str, Any]:
    """A copy of a JSON payload whose `fields` (at any depth) are ciphertexts under `key`.
    A field already encrypted is kept as it is (sealing twice changes nothing)."""

    def seal(field: str, item: Any) -> Any:
        return item if is_encrypted(item) else key.encrypt(field, _as_text(item))

    return dict(_walk(payload, frozenset(fields), seal))


def open_payload(payload: dict[str, Any], key: DataKey | None, fields: Iterable[str]) -> dict[str, Any]:
    """A copy of a JSON payload whose encrypted `fields` are clear again, or FORGOTTEN when the
    key is gone (`key` None) or of another generation. Clear fields (events written before
    encryption) are kept as they are."""

    def open_(field: str, item: Any) -> Any:
        if not is_encrypted(item):
            return item
        return FORGOTTEN if key is None else key.decrypt(field, item)

    return dict(_walk(payload, frozenset(fields), open_))
