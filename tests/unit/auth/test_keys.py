"""API keys from configuration: parsing, hashing, who holds which key, and what each role sees."""

from __future__ import annotations

import hashlib
import json

import pytest

from libs.auth import DEVELOPMENT_PRINCIPAL, ApiKey, KeyConfigError, KeyRing, Principal, Role, hash_key

ADMIN_KEY = "provinsi-rahasia-3f9a1c"
OFFICER_KEY = "samosir-rahasia-77b2e0"


def config(*entries: dict[str, str]) -> str:
    return json.dumps(list(entries))


def ring() -> KeyRing:
    return KeyRing.from_json(
        config(
            {"key_sha256": hash_key(ADMIN_KEY), "role": "province_admin", "name": "Admin provinsi"},
            {
                "key_sha256": hash_key(OFFICER_KEY),
                "role": "regency_officer",
                "regency": "12.17",
                "name": "Petugas Samosir",
            },
        )
    )


def test_a_key_is_stored_as_its_sha256() -> None:
    assert hash_key(ADMIN_KEY) == hashlib.sha256(ADMIN_KEY.encode()).hexdigest()
    assert hash_key(f"  {ADMIN_KEY}\n") == hash_key(ADMIN_KEY)  # pasted with whitespace


def test_keys_identify_their_holders() -> None:
    keys = ring()
    assert not keys.open and len(keys) == 2
    assert keys.authenticate(ADMIN_KEY) == Principal("Admin provinsi", Role.PROVINCE_ADMIN)
    assert keys.authenticate(OFFICER_KEY) == Principal("Petugas Samosir", Role.REGENCY_OFFICER, "12.17")
    assert keys.authenticate("tebakan") is None
    assert keys.authenticate(hash_key(ADMIN_KEY)) is None  # the hash is not the key
    assert keys.by_hash(hash_key(OFFICER_KEY)) == keys.authenticate(OFFICER_KEY)


@pytest.mark.parametrize("text", [None, "", "  ", "[]"])
def test_no_keys_means_development(text: str | None) -> None:
    assert KeyRing.from_json(text).open


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("{not json", "not JSON"),
        (config({"key_sha256": "abc", "role": "province_admin", "name": "x"}), "key_sha256"),
        (config({"key_sha256": "a" * 64, "role": "governor", "name": "x"}), "role"),
        (config({"key_sha256": "a" * 64, "role": "regency_officer", "name": "x"}), "needs a regency"),
        (config({"key_sha256": "a" * 64, "role": "auditor", "regency": "12.17", "name": "x"}), "only a"),
        (
            config({"key_sha256": "a" * 64, "role": "regency_officer", "regency": "1217", "name": "x"}),
            "regency",
        ),
        (config({"key_sha256": "a" * 64, "role": "bpjs", "name": "x", "extra": 1}), "extra"),
        (
            config(
                {"key_sha256": "a" * 64, "role": "bpjs", "name": "x"},
                {"key_sha256": "a" * 64, "role": "auditor", "name": "y"},
            ),
            "twice",
        ),
    ],
)
def test_a_bad_configuration_stops_the_service(text: str, complaint: str) -> None:
    with pytest.raises(KeyConfigError, match=complaint):
        KeyRing.from_json(text)


def test_what_each_role_may_see() -> None:
    officer = Principal("Petugas Samosir", Role.REGENCY_OFFICER, "12.17")
    assert officer.may_see_regency("12.17") and not officer.may_see_regency("12.71")
    assert not officer.province_wide
    for role in (Role.PROVINCE_ADMIN, Role.AUDITOR):
        assert Principal("p", role).province_wide and Principal("p", role).may_see_regency("12.71")
    bpjs = Principal("BPJS", Role.BPJS)
    assert not bpjs.province_wide and not bpjs.may_see_regency("12.17")


def test_the_development_principal_is_an_unauthenticated_province_admin() -> None:
    assert DEVELOPMENT_PRINCIPAL.role is Role.PROVINCE_ADMIN
    assert DEVELOPMENT_PRINCIPAL.authenticated is False


def test_api_key_entries_are_plain_data() -> None:
    entry = ApiKey(key_sha256="b" * 64, role=Role.AUDITOR, name="Inspektorat")
    assert entry.principal() == Principal("Inspektorat", Role.AUDITOR)
