"""The FastAPI dependency: bearer keys, session cookies, role checks, and development mode."""

# No `from __future__ import annotations`: the routes are declared inside app_with(), and FastAPI
# must see the local `Caller` / `Officials` types, not their names.
import json
import logging
from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient

from libs.auth import (
    SESSION_COOKIE,
    Authenticator,
    KeyConfigError,
    KeyRing,
    Principal,
    Role,
    SessionSigner,
    ensure_regency_visible,
    hash_key,
)
from libs.settings import Settings

KEYS = {"admin": "k-admin-9a8b7c", "officer": "k-officer-1d2e3f", "bpjs": "k-bpjs-4a5b6c"}


def keyring() -> KeyRing:
    return KeyRing.from_json(
        json.dumps(
            [
                {"key_sha256": hash_key(KEYS["admin"]), "role": "province_admin", "name": "Admin"},
                {
                    "key_sha256": hash_key(KEYS["officer"]),
                    "role": "regency_officer",
                    "regency": "12.17",
                    "name": "Petugas Samosir",
                },
                {"key_sha256": hash_key(KEYS["bpjs"]), "role": "bpjs", "name": "BPJS"},
            ]
        )
    )


def app_with(auth: Authenticator) -> FastAPI:
    app = FastAPI()
    Caller = Annotated[Principal, Depends(auth)]
    Officials = Annotated[Principal, Depends(auth.require(Role.PROVINCE_ADMIN, Role.REGENCY_OFFICER))]

    @app.get("/who")
    async def who(caller: Caller) -> dict[str, str | None]:
        return {"name": caller.name, "role": caller.role.value, "regency": caller.regency}

    @app.get("/regency/{code}")
    async def regency(code: str, caller: Officials) -> dict[str, str]:
        ensure_regency_visible(caller, code)
        return {"code": code}

    @app.post("/login")
    async def login(request: Request) -> Response:
        key = (await request.json())["key"]
        token = auth.login(key)
        response = Response(status_code=204 if token else 401)
        if token:
            auth.set_session(response, token, secure=False)
        return response

    return app


def client(auth: Authenticator | None = None) -> TestClient:
    return TestClient(app_with(auth or Authenticator(keyring(), SessionSigner("s", timedelta(hours=1)))))


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def test_bearer_keys() -> None:
    http = client()
    assert http.get("/who", headers=bearer("officer")).json() == {
        "name": "Petugas Samosir",
        "role": "regency_officer",
        "regency": "12.17",
    }
    missing = http.get("/who")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["detail"]["code"] == "AUTH_REQUIRED"
    assert http.get("/who", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert http.get("/who", headers={"Authorization": f"Basic {KEYS['admin']}"}).status_code == 401


def test_roles_and_regencies() -> None:
    http = client()
    assert http.get("/regency/12.71", headers=bearer("admin")).status_code == 200
    assert http.get("/regency/12.17", headers=bearer("officer")).status_code == 200
    other = http.get("/regency/12.71", headers=bearer("officer"))
    assert other.status_code == 403 and "12.17" in other.json()["detail"]["message"]
    refused = http.get("/regency/12.17", headers=bearer("bpjs"))
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "FORBIDDEN"


def test_a_login_sets_a_session_cookie() -> None:
    http = client()
    assert http.post("/login", json={"key": "wrong"}).status_code == 401
    answer = http.post("/login", json={"key": KEYS["officer"]})
    assert answer.status_code == 204
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert KEYS["officer"] not in cookie
    assert http.get("/who").json()["regency"] == "12.17"  # the cookie jar carries the session
    # A wrong bearer key is refused even with a valid session alongside.
    assert http.get("/who", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_a_session_of_a_key_removed_from_the_configuration_ends() -> None:
    signer = SessionSigner("shared-secret", timedelta(hours=1))
    before = client(Authenticator(keyring(), signer))
    before.post("/login", json={"key": KEYS["officer"]})
    token = before.cookies[SESSION_COOKIE]
    only_admin = KeyRing.from_json(
        json.dumps([{"key_sha256": hash_key(KEYS["admin"]), "role": "province_admin", "name": "Admin"}])
    )
    after = client(Authenticator(only_admin, signer))
    after.cookies.set(SESSION_COOKIE, token)
    assert after.get("/who").status_code == 401
    again = client(Authenticator(keyring(), signer))
    again.cookies.set(SESSION_COOKIE, token)
    assert again.get("/who").status_code == 200  # the same token, while the key is configured


def test_development_mode_makes_everyone_province_admin(caplog: pytest.LogCaptureFixture) -> None:
    auth = Authenticator.from_settings(Settings(_env_file=None, api_keys=""))
    assert auth.open
    http = client(auth)
    assert http.get("/who").json()["role"] == "province_admin"
    assert http.get("/regency/12.71").status_code == 200
    assert http.post("/login", json={"key": "anything"}).status_code == 401  # nothing to log in to
    with caplog.at_level(logging.INFO):
        auth.log_mode(logging.getLogger("test"))
    assert "AUTHENTICATION OFF" in caplog.text and "province_admin" in caplog.text
    assert caplog.records[-1].levelno == logging.WARNING


def test_production_refuses_to_start_without_keys() -> None:
    with pytest.raises(KeyConfigError, match="LINDUNG_AUTH_REQUIRED"):
        Authenticator.from_settings(Settings(_env_file=None, api_keys="", auth_required=True))
    configured = Authenticator.from_settings(
        Settings(
            _env_file=None, api_keys=json.dumps([{"key_sha256": "c" * 64, "role": "auditor", "name": "a"}])
        )
    )
    assert "1 API key(s)" in configured.describe() and "LINDUNG_SESSION_SECRET unset" in configured.describe()
