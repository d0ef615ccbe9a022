"""Closed by default: the reasons a service may not start outside development mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from libs.auth import hash_key
from libs.runtime.production import (
    DEFAULT_NIK_PEPPER,
    ProductionRefused,
    check_start,
    open_warning,
    refusals,
)
from libs.settings import Settings

KEYS = json.dumps([{"key_sha256": hash_key("k" * 40), "role": "province_admin", "name": "Disnaker"}])
COMPLETE: dict[str, Any] = {
    "api_keys": KEYS,
    "nik_pepper": "p" * 32,
    "session_secret": "s" * 32,
    "event_keyring_file": "/etc/lindung/keyring.json",
    "event_signing_key_file": "/run/secrets/registry.pem",
    "event_signing_key_id": "registry-2026",
    "privacy_master_key": "f" * 64,
    "dev_mode": False,
}
# Explicit values, not the process environment (an integration test may have set it, under xdist).
BARE: dict[str, Any] = {
    "api_keys": "",
    "nik_pepper": DEFAULT_NIK_PEPPER,
    "session_secret": None,
    "event_keyring_file": None,
    "event_signing_key_file": None,
    "event_signing_key_id": None,
    "privacy_master_key": None,
    "dev_mode": False,
}


def settings(**changes: Any) -> Settings:
    return Settings(_env_file=None, **{**COMPLETE, **changes})


def settings_of(refused: list[Any]) -> list[str]:
    return [r.setting for r in refused]


@pytest.mark.parametrize("service", ["registry", "dashboard", "bpjs_simulator"])
def test_a_complete_configuration_is_refused_nothing(service: str) -> None:
    assert refusals(settings(), service) == []


def test_nothing_configured_lists_every_reason() -> None:
    bare = Settings(_env_file=None, **BARE)
    assert settings_of(refusals(bare, "dashboard")) == [
        "LINDUNG_API_KEYS",
        "LINDUNG_NIK_PEPPER",
        "LINDUNG_SESSION_SECRET",
        "LINDUNG_EVENT_KEYRING_FILE",
        "LINDUNG_EVENT_SIGNING_KEY_FILE dan LINDUNG_EVENT_SIGNING_KEY_ID",
        "LINDUNG_PRIVACY_MASTER_KEY",
    ]
    # Only the dashboard sets cookies: no session secret is needed elsewhere.
    assert "LINDUNG_SESSION_SECRET" not in settings_of(refusals(bare, "registry"))


@pytest.mark.parametrize("keys", ["", "  ", "[]"])
def test_no_keys_is_refused(keys: str) -> None:
    (refused,) = refusals(settings(api_keys=keys), "claims")
    assert refused.setting == "LINDUNG_API_KEYS"
    assert "admin provinsi" in str(refused) and str(refused).endswith("Setel LINDUNG_API_KEYS.")


def test_unreadable_keys_are_left_to_the_key_ring_to_name() -> None:
    # KeyRing.from_json raises at definition with the exact mistake; not "no keys" here.
    assert refusals(settings(api_keys="{not json"), "claims") == []


@pytest.mark.parametrize(
    ("pepper", "says"),
    [(DEFAULT_NIK_PEPPER, "nilai bawaan"), ("x" * 31, "lebih pendek dari 32 byte"), ("é" * 15, "32 byte")],
)
def test_the_default_or_a_short_pepper_is_refused(pepper: str, says: str) -> None:
    (refused,) = refusals(settings(nik_pepper=pepper), "registry")
    assert refused.setting == "LINDUNG_NIK_PEPPER" and says in refused.reason


def test_a_pepper_of_32_bytes_is_enough() -> None:
    # 16 two-byte characters are 32 bytes.
    assert refusals(settings(nik_pepper="é" * 16), "registry") == []


@pytest.mark.parametrize("secret", [None, "", "short"])
def test_the_dashboard_needs_a_session_secret(secret: str | None) -> None:
    (refused,) = refusals(settings(session_secret=secret), "dashboard")
    assert refused.setting == "LINDUNG_SESSION_SECRET"
    assert refusals(settings(session_secret=secret), "enrollment") == []


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"event_keyring_file": None}, "LINDUNG_EVENT_KEYRING_FILE"),
        ({"event_signing_key_file": None}, "LINDUNG_EVENT_SIGNING_KEY_FILE dan LINDUNG_EVENT_SIGNING_KEY_ID"),
        ({"event_signing_key_id": ""}, "LINDUNG_EVENT_SIGNING_KEY_FILE dan LINDUNG_EVENT_SIGNING_KEY_ID"),
    ],
)
def test_every_service_needs_its_event_keys(change: dict[str, Any], setting: str) -> None:
    for service in ("registry", "allocation", "enrollment", "claims", "dashboard", "bpjs_simulator"):
        assert settings_of(refusals(settings(**change), service)) == [setting], service


def test_outside_dev_mode_a_refusal_stops_the_start_with_every_reason() -> None:
    with pytest.raises(ProductionRefused) as refused:
        check_start(Settings(_env_file=None, **BARE), "dashboard")
    message = str(refused.value)
    lines = message.splitlines()
    assert lines[0].startswith("Layanan dashboard tidak dijalankan")
    assert len(lines) == 2 + 6  # the header, six reasons (the privacy master key the sixth), the hint
    for setting in ("LINDUNG_API_KEYS", "LINDUNG_NIK_PEPPER", "LINDUNG_SESSION_SECRET"):
        assert f"Setel {setting}." in message
    assert "LINDUNG_DEV_MODE=true" in message


def test_dev_mode_starts_and_names_what_is_open() -> None:
    still_open = check_start(Settings(_env_file=None, **{**BARE, "dev_mode": True}), "registry")
    assert settings_of(still_open)[0] == "LINDUNG_API_KEYS"
    warning = open_warning("registry", still_open)
    assert "LINDUNG_DEV_MODE=true" in warning and "LINDUNG_API_KEYS" in warning and "\n" not in warning
    assert check_start(settings(), "registry") == []


def test_every_service_needs_the_privacy_master_key() -> None:
    for service in ("registry", "allocation", "enrollment", "claims", "dashboard"):
        (refused,) = refusals(settings(privacy_master_key=None), service)
        assert refused.setting == "LINDUNG_PRIVACY_MASTER_KEY" and "dilupakan" in str(refused)
