"""The access matrix of libs/auth/access.py, without a server: principals, listing scopes, regency
writes, and what `Authenticator.admit` answers each role."""

# No `from __future__ import annotations`: a route is declared inside a test, and FastAPI must see
# the local `Reader` type, not its name.
import json
from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from starlette.requests import Request

from libs.auth import (
    ADMINS,
    DEVELOPMENT_PRINCIPAL,
    EVERYONE,
    READERS,
    WRITERS,
    Authenticator,
    KeyRing,
    Principal,
    Role,
    SessionSigner,
    actor,
    caller,
    ensure_regency_writable,
    hash_key,
    listing_regency,
    protect,
)

SAMOSIR, MEDAN = "12.17", "12.71"
ADMIN = Principal("Admin Provinsi", Role.PROVINCE_ADMIN)
OFFICER = Principal("Petugas Samosir", Role.REGENCY_OFFICER, SAMOSIR)
BPJS = Principal("BPJS Ketenagakerjaan", Role.BPJS)
AUDITOR = Principal("Inspektorat", Role.AUDITOR)
KEYS = {"admin": "k-admin-0", "officer": "k-officer-1", "bpjs": "k-bpjs-2", "auditor": "k-auditor-3"}
AUDITOR_MESSAGE = "Auditor hanya dapat membaca; akun ini tidak dapat mengubah data."


def authenticator() -> Authenticator:
    keys = [
        {"key_sha256": hash_key(KEYS["admin"]), "role": "province_admin", "name": "Admin"},
        {
            "key_sha256": hash_key(KEYS["officer"]),
            "role": "regency_officer",
            "regency": SAMOSIR,
            "name": "Petugas Samosir",
        },
        {"key_sha256": hash_key(KEYS["bpjs"]), "role": "bpjs", "name": "BPJS"},
        {"key_sha256": hash_key(KEYS["auditor"]), "role": "auditor", "name": "Inspektorat"},
    ]
    return Authenticator(KeyRing.from_json(json.dumps(keys)), SessionSigner("s" * 32, timedelta(hours=1)))


def request(authorization: str | None = None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def bearer(role: str) -> Request:
    return request(f"Bearer {KEYS[role]}")


def refusal(exc: pytest.ExceptionInfo[HTTPException]) -> tuple[int, str, str]:
    detail = exc.value.detail
    assert isinstance(detail, dict)
    return exc.value.status_code, detail["code"], detail["message"]


# --- Principal ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "regency", "may"),
    [
        (ADMIN, SAMOSIR, True),
        (ADMIN, MEDAN, True),
        (ADMIN, None, True),
        (OFFICER, SAMOSIR, True),
        (OFFICER, MEDAN, False),
        (OFFICER, None, False),  # something of no regency is not the officer's to change
        (OFFICER, "", False),
        (BPJS, SAMOSIR, False),
        (BPJS, None, False),
        (AUDITOR, SAMOSIR, False),
        (AUDITOR, None, False),
        (DEVELOPMENT_PRINCIPAL, MEDAN, True),
    ],
)
def test_who_may_act_for_a_regency(principal: Principal, regency: str | None, may: bool) -> None:
    assert principal.may_act_for_regency(regency) is may
    # Names are read unmasked exactly by whoever answers for the regency's workers.
    assert principal.sees_personal_data(regency) is may


def test_an_auditor_sees_every_regency_but_no_names() -> None:
    assert AUDITOR.province_wide and AUDITOR.may_see_regency(MEDAN)
    assert not AUDITOR.sees_personal_data(MEDAN) and not AUDITOR.sees_personal_data(SAMOSIR)
    assert not OFFICER.sees_personal_data(MEDAN) and OFFICER.sees_personal_data(SAMOSIR)


def test_an_officer_bound_to_no_regency_acts_for_nothing() -> None:
    # A key ring refuses such a key; the principal itself is safe even so.
    loose = Principal("Tanpa kabupaten", Role.REGENCY_OFFICER, None)
    assert not loose.may_act_for_regency(None)
    assert not loose.may_act_for_regency(SAMOSIR)
    assert not loose.may_see_regency(SAMOSIR)


# --- listing_regency and ensure_regency_writable ------------------------------------------------


@pytest.mark.parametrize("principal", [ADMIN, AUDITOR])
def test_province_wide_listings(principal: Principal) -> None:
    assert listing_regency(principal, None) is None
    assert listing_regency(principal, "") is None
    assert listing_regency(principal, MEDAN) == MEDAN


def test_an_officer_lists_their_own_regency_only() -> None:
    assert listing_regency(OFFICER, None) == SAMOSIR  # the default scope, never "everything"
    assert listing_regency(OFFICER, "") == SAMOSIR
    assert listing_regency(OFFICER, SAMOSIR) == SAMOSIR
    with pytest.raises(HTTPException) as exc:
        listing_regency(OFFICER, MEDAN)
    assert refusal(exc) == (403, "FORBIDDEN", f"Akun ini hanya dapat melihat data kabupaten/kota {SAMOSIR}.")


def test_bpjs_lists_nothing_of_a_regency() -> None:
    with pytest.raises(HTTPException) as exc:
        listing_regency(BPJS, MEDAN)
    assert exc.value.status_code == 403
    assert not BPJS.province_wide


def test_regency_writes() -> None:
    ensure_regency_writable(ADMIN, MEDAN)
    ensure_regency_writable(ADMIN, None)
    ensure_regency_writable(OFFICER, SAMOSIR)
    for principal, regency in [(OFFICER, MEDAN), (OFFICER, None), (AUDITOR, SAMOSIR), (BPJS, SAMOSIR)]:
        with pytest.raises(HTTPException) as exc:
            ensure_regency_writable(principal, regency)
        status, code, message = refusal(exc)
        assert (status, code) == (403, "FORBIDDEN")
        assert message.startswith("Akun ini hanya dapat mengubah data kabupaten/kota")


def test_role_groups() -> None:
    assert Role.BPJS not in READERS and Role.BPJS not in WRITERS
    assert Role.AUDITOR in READERS and Role.AUDITOR not in WRITERS and Role.AUDITOR not in ADMINS
    assert set(ADMINS) == {Role.PROVINCE_ADMIN} and set(EVERYONE) == set(Role)


def test_actor_names_the_key_holder() -> None:
    assert actor(OFFICER, None, "http") == "Petugas Samosir"
    assert actor(OFFICER, "Bu Rina", "http") == "Petugas Samosir (Bu Rina)"
    # Without keys nobody proved anything: the header, or the default.
    assert actor(DEVELOPMENT_PRINCIPAL, "Bu Rina", "http") == "Bu Rina"
    assert actor(DEVELOPMENT_PRINCIPAL, None, "http") == "http"


# --- Authenticator.admit ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "officer", "auditor"])
def test_readers_are_admitted_to_reads(role: str) -> None:
    principal = authenticator().admit(bearer(role), frozenset(READERS))
    assert principal.authenticated and principal.role in READERS


def test_the_officer_is_admitted_with_their_regency() -> None:
    principal = authenticator().admit(bearer("officer"), frozenset(WRITERS))
    assert principal == Principal("Petugas Samosir", Role.REGENCY_OFFICER, SAMOSIR)


def test_an_auditor_changes_nothing() -> None:
    for allowed in (WRITERS, ADMINS, (Role.PROVINCE_ADMIN, Role.BPJS)):
        with pytest.raises(HTTPException) as exc:
            authenticator().admit(bearer("auditor"), frozenset(allowed))
        assert refusal(exc) == (403, "FORBIDDEN", AUDITOR_MESSAGE)


def test_another_role_is_told_who_may() -> None:
    with pytest.raises(HTTPException) as exc:
        authenticator().admit(bearer("bpjs"), frozenset(WRITERS))
    assert refusal(exc) == (
        403,
        "FORBIDDEN",
        "Peran bpjs tidak berhak; yang berhak: province_admin, regency_officer.",
    )
    with pytest.raises(HTTPException) as exc:
        authenticator().admit(bearer("officer"), frozenset(ADMINS))
    assert refusal(exc)[:2] == (403, "FORBIDDEN")


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer ", "Basic a2V5", "Bearer wrong-key", KEYS["admin"]]
)
def test_no_valid_key_is_401(authorization: str | None) -> None:
    with pytest.raises(HTTPException) as exc:
        authenticator().admit(request(authorization), frozenset(EVERYONE))
    status, code, _ = refusal(exc)
    assert (status, code) == (401, "AUTH_REQUIRED")
    assert exc.value.headers == {"WWW-Authenticate": "Bearer"}


def test_without_keys_everyone_is_the_development_admin() -> None:
    open_auth = Authenticator(KeyRing(), SessionSigner(None, timedelta(hours=1)))
    assert open_auth.admit(request(), frozenset(ADMINS)) is DEVELOPMENT_PRINCIPAL


# --- protect and caller -------------------------------------------------------------------------


def test_protected_routes_ask_the_services_authenticator() -> None:
    router = APIRouter()
    Writer = Annotated[Principal, Depends(caller(*WRITERS))]

    @router.post("/things")
    async def things(who: Writer) -> dict[str, str]:
        return {"name": who.name}

    app = FastAPI()
    app.include_router(protect(router, authenticator()))
    client = TestClient(app)
    officer = client.post("/things", headers={"Authorization": f"Bearer {KEYS['officer']}"})
    assert officer.status_code == 200 and officer.json() == {"name": "Petugas Samosir"}
    auditor = client.post("/things", headers={"Authorization": f"Bearer {KEYS['auditor']}"})
    assert auditor.status_code == 403 and auditor.json()["detail"]["message"] == AUDITOR_MESSAGE
    assert client.post("/things").status_code == 401


def test_a_route_outside_protect_is_refused_not_served() -> None:
    app = FastAPI()
    Reader = Annotated[Principal, Depends(caller(*READERS))]

    @app.get("/open")
    async def open_route(who: Reader) -> dict[str, str]:
        return {"name": who.name}

    with pytest.raises(RuntimeError, match=r"not behind libs\.auth\.access\.protect"):
        TestClient(app).get("/open")
