"""Who is calling: roles, principals, and the API keys that identify them.

Keys come from configuration (`LINDUNG_API_KEYS`) as SHA-256 hashes only: a leaked settings file
or process environment does not leak a usable key. The keys themselves must be long random strings
(`python -c "import secrets; print(secrets.token_urlsafe(32))"`), which is what makes an unsalted
hash enough. With no key configured (development) every caller is a province admin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator


class Role(StrEnum):
    """DESIGN.md §7: what a caller may do."""

    PROVINCE_ADMIN = "province_admin"  # programmes, quotas, decrees; every regency
    REGENCY_OFFICER = "regency_officer"  # only their own regency
    BPJS = "bpjs"  # pushes results and claims
    AUDITOR = "auditor"  # read-only, every regency, replay and export


PROVINCE_WIDE = frozenset({Role.PROVINCE_ADMIN, Role.AUDITOR})


@dataclass(frozen=True)
class Principal:
    """The caller, as far as Lindung knows: a name (for logs), a role and, for officers, a regency."""

    name: str
    role: Role
    regency: str | None = None
    # False only for the development principal (no keys configured): nobody proved anything.
    authenticated: bool = True

    @property
    def province_wide(self) -> bool:
        """True when the caller may see every regency."""
        return self.role in PROVINCE_WIDE

    def may_see_regency(self, regency_code: str) -> bool:
        """True when the caller may see the figures of `regency_code`."""
        if self.province_wide:
            return True
        return self.role is Role.REGENCY_OFFICER and self.regency == regency_code

    def may_act_for_regency(self, regency_code: str | None) -> bool:
        """True when the caller may change what belongs to `regency_code` (nominate, correct...)."""
        if self.role is Role.PROVINCE_ADMIN:
            return True
        return self.role is Role.REGENCY_OFFICER and regency_code is not None and self.regency == regency_code

    def sees_personal_data(self, regency_code: str | None) -> bool:
        """True when the caller reads the names of `regency_code`'s workers unmasked.

        Only whoever answers for those workers does: the province admin and the regency's own
        officer. An auditor checks figures, rules and chains by worker id, and reads names masked.
        """
        return self.may_act_for_regency(regency_code)


DEVELOPMENT_PRINCIPAL = Principal(
    name="development (no API keys configured)", role=Role.PROVINCE_ADMIN, authenticated=False
)


def hash_key(raw_key: str) -> str:
    """The SHA-256 (hex) of an API key, as written in LINDUNG_API_KEYS."""
    return hashlib.sha256(raw_key.strip().encode()).hexdigest()


class ApiKey(BaseModel):
    """One configured key: its hash, and who holds it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: Role
    regency: str | None = Field(default=None, pattern=r"^12\.\d{2}$")
    name: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _regency_goes_with_officers(self) -> ApiKey:
        if self.role is Role.REGENCY_OFFICER and self.regency is None:
            raise ValueError(f"key {self.name!r}: a regency_officer needs a regency (e.g. 12.17)")
        if self.role is not Role.REGENCY_OFFICER and self.regency is not None:
            raise ValueError(f"key {self.name!r}: only a regency_officer is bound to a regency")
        return self

    def principal(self) -> Principal:
        return Principal(name=self.name, role=self.role, regency=self.regency)


class KeyConfigError(ValueError):
    """LINDUNG_API_KEYS cannot be read: the service must not start with it."""


_KEY_LIST = TypeAdapter(list[ApiKey])


class KeyRing:
    """The configured API keys; empty means development (everyone is a province admin)."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._by_hash: dict[str, ApiKey] = {}
        for key in keys:
            if key.key_sha256 in self._by_hash:
                raise KeyConfigError(f"the same key hash is configured twice ({key.name!r})")
            self._by_hash[key.key_sha256] = key

    @classmethod
    def from_json(cls, text: str | None) -> KeyRing:
        """Parse LINDUNG_API_KEYS ("" or "[]": no keys). Raises KeyConfigError on any mistake."""
        if text is None or not text.strip():
            return cls()
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KeyConfigError(f"LINDUNG_API_KEYS is not JSON: {exc.msg} at {exc.pos}") from None
        try:
            return cls(_KEY_LIST.validate_python(raw))
        except ValidationError as exc:
            raise KeyConfigError(f"LINDUNG_API_KEYS is invalid: {exc}") from None

    @property
    def open(self) -> bool:
        """True when no key is configured: development mode, no authentication."""
        return not self._by_hash

    def __len__(self) -> int:
        return len(self._by_hash)

    def authenticate(self, raw_key: str) -> Principal | None:
        """The principal holding `raw_key`, or None for an unknown key."""
        return self.by_hash(hash_key(raw_key))

    def by_hash(self, key_sha256: str) -> Principal | None:
        """The principal of a configured key hash (sessions remember the hash, never the key)."""
        for known, key in self._by_hash.items():
            # Constant-time comparison over every key: timing tells nothing about near misses.
            if hmac.compare_digest(known, key_sha256):
                return key.principal()
        return None
