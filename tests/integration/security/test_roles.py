"""The role matrix over every route of every service, taken from each app's OpenAPI document, so a
route added later is covered without touching this file.

- No key (or a wrong one): 401 everywhere.
- Auditor: 403 with the read-only message on every POST/PUT/PATCH/DELETE, nothing changes; every
  read is answered.
- BPJS: 403 on nominating, programmes, quotas, budgets, decrees, billing and every read of the
  programme's data; the simulator (BPJS's side of the bus) answers it, claims pushes included.
- A regency officer: nothing to do at the simulator.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.security.conftest import AUDITOR_MESSAGE, PROGRAMME, SAMOSIR, Stack, settle

pytestmark = pytest.mark.integration

CHANGES = ("post", "put", "patch", "delete")
READ_QUERY = {"on": "2026-06-15", "programme": PROGRAMME, "month": "2026-06"}


def routes(stack: Stack, service: str) -> list[tuple[str, str, list[str]]]:
    """(method, path template, tags) of every documented route of `service` but the operational ones."""
    found = []
    for path, operations in stack.apps[service].openapi()["paths"].items():
        for method, operation in operations.items():
            tags = operation.get("tags", [])
            if "operations" in tags:  # /health, /ready, /stats: open by design, no programme data
                continue
            found.append((method, path, tags))
    return sorted(found)


def reads_by_post(stack: Stack) -> set[tuple[str, str, str]]:
    """Routes that only read though sent as POST (a NIK in the body, not the URL: issue 15)."""
    return {
        (service, method, path)
        for service in stack.apps
        for path, operations in stack.apps[service].openapi()["paths"].items()
        for method, operation in operations.items()
        if operation.get("x-lindung-read")
    }


def every_route(stack: Stack) -> list[tuple[str, str, str]]:
    return [(s, m, p) for s in stack.apps for m, p, _ in routes(stack, s)]


def filled(stack: Stack, template: str) -> str:
    """`template` with real values of the run where it knows the parameter, "x" elsewhere."""
    samosir = stack.people["samosir_enrolled"]
    known = {
        "nomination_id": samosir.nomination_id,
        "kind": "p3ke",
        "code": PROGRAMME,
        "version": "1",
        "fmt": "csv",
        "regency_code": SAMOSIR,
        "sector": "non_sawit",
        "worker_id": samosir.worker_id,
        "nik": samosir.nik,
        "claim_id": samosir.claim_id,
        "kpj": samosir.kpj,
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(known.get(m.group(1), "x")), template)


async def test_the_run_covers_every_service(stack: Stack) -> None:
    counts = {s: len(routes(stack, s)) for s in stack.apps}
    assert all(counts.values()), counts
    changes = {(s, m, p) for s, m, p in every_route(stack) if m in CHANGES}
    assert {
        ("registry", "post", "/nominations"),
        ("registry", "post", "/nominations/upload"),
        ("registry", "post", "/nominations/{nomination_id}/corrections"),
        ("registry", "post", "/nominations/{nomination_id}/withdrawal"),
        ("registry", "post", "/reference/{kind}"),
        ("allocation", "post", "/programmes"),
        ("allocation", "put", "/programmes/{code}/budget"),
        ("allocation", "put", "/programmes/{code}/quotas/{regency_code}/{sector}"),
        ("allocation", "post", "/programmes/{code}/quotas/move"),
        ("allocation", "post", "/programmes/{code}/decrees"),
        ("enrollment", "post", "/premiums/bills"),
        ("enrollment", "post", "/coverage/lapses"),
        ("bpjs_simulator", "post", "/control/outage"),
        ("bpjs_simulator", "post", "/control/claims"),
    } <= changes


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-configured-key", "Basic YWRtaW4="])
async def test_without_a_valid_key_every_route_is_401(stack: Stack, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    wrong = []
    for service, method, path in every_route(stack):
        reply = await stack.call(
            service, None, method, filled(stack, path), params=READ_QUERY, headers=headers
        )
        if reply.status_code != 401 or reply.json()["detail"]["code"] != "AUTH_REQUIRED":
            wrong.append((service, method, path, reply.status_code))
    assert wrong == []


async def test_the_auditor_changes_nothing(stack: Stack) -> None:
    await settle(stack)  # what earlier tests set moving has landed
    before = {schema: await stack.events(schema) for schema in stack.apps}
    nominations = await stack.rows("SELECT nomination_id, status, updated_at FROM registry.nominations")
    wrong = []
    tried = 0
    reads = reads_by_post(stack)
    for service, method, path in every_route(stack):
        if method not in CHANGES or (service, method, path) in reads:
            continue
        tried += 1
        reply = await stack.call(service, "auditor", method, filled(stack, path), json={})
        if reply.status_code != 403 or reply.json()["detail"] != {
            "code": "FORBIDDEN",
            "message": AUDITOR_MESSAGE,
        }:
            wrong.append((service, method, path, reply.status_code, reply.text[:200]))
    assert wrong == [] and tried >= 14
    await settle(stack)
    assert {schema: await stack.events(schema) for schema in stack.apps} == before
    assert (
        await stack.rows("SELECT nomination_id, status, updated_at FROM registry.nominations") == nominations
    )
    control = await stack.call("bpjs_simulator", "auditor", "GET", "/control")
    assert control.status_code == 200 and control.json()["outage"] is False


async def test_the_auditor_reads_everything(stack: Stack) -> None:
    wrong = []
    for service, method, path in every_route(stack):
        if method != "get":
            continue
        reply = await stack.call(service, "auditor", "GET", filled(stack, path), params=READ_QUERY)
        # A path with no real value to put in it ("x") may be 404; never 401/403.
        allowed = {200, 404} if "x" in filled(stack, path).split("/") else {200}
        if reply.status_code not in allowed:
            wrong.append((service, path, reply.status_code, reply.text[:200]))
    # Reads sent as POST take the NIK in the body (the coverage lookup).
    question = {"nik": stack.people["samosir_enrolled"].nik, "on": READ_QUERY["on"]}
    for service, _, path in sorted(reads_by_post(stack)):
        reply = await stack.call(service, "auditor", "POST", path, json=question)
        if reply.status_code != 200:
            wrong.append((service, path, reply.status_code, reply.text[:200]))
    assert wrong == [] and reads_by_post(stack)


BPJS_REFUSED_SERVICES = ("registry", "allocation", "enrollment", "claims", "dashboard")
# Answered to every role: the registry's table of reason codes and messages (no programme data).
FOR_EVERY_ROLE = {("registry", "get", "/reasons")}


async def test_bpjs_cannot_nominate_or_change_the_programme(stack: Stack) -> None:
    wrong = []
    for service, method, path in every_route(stack):
        if service not in BPJS_REFUSED_SERVICES or (service, method, path) in FOR_EVERY_ROLE:
            continue
        kw: dict[str, Any] = {"params": READ_QUERY} if method == "get" else {"json": {}}
        reply = await stack.call(service, "bpjs", method, filled(stack, path), **kw)
        detail = reply.json().get("detail") if reply.status_code == 403 else None
        if not (
            detail
            and detail["code"] == "FORBIDDEN"
            and detail["message"].startswith("Peran bpjs tidak berhak")
        ):
            wrong.append((service, method, path, reply.status_code))
    assert wrong == []
    # The ones the issue names, with a real body: nominating, a programme, quotas, a decree.
    samosir = stack.people["samosir_by_officer"]
    for service, method, path, kw in [
        ("registry", "POST", "/nominations", {"json": samosir.nomination()}),
        ("allocation", "POST", "/programmes", {"json": {"code": "BPJS-2026"}}),
        ("allocation", "PUT", f"/programmes/{PROGRAMME}/quotas/{SAMOSIR}/non_sawit", {"json": {"seats": 1}}),
        ("allocation", "PUT", f"/programmes/{PROGRAMME}/budget", {"json": {"budget_cap": 1}}),
        (
            "allocation",
            "POST",
            f"/programmes/{PROGRAMME}/decrees",
            {"json": {"number": "1/BPJS", "date": "2026-03-01", "signer": "BPJS"}},
        ),
    ]:
        reply = await stack.call(service, "bpjs", method, path, **kw)
        assert reply.status_code == 403, (path, reply.text)


async def test_bpjs_does_what_bpjs_does_at_the_simulator(stack: Stack) -> None:
    refused = []
    for _, method, path in [r for r in every_route(stack) if r[0] == "bpjs_simulator"]:
        if method == "post" and path == "/control/outage":
            reply = await stack.call("bpjs_simulator", "bpjs", "POST", path, params={"seconds": 0})
            assert reply.status_code == 200 and reply.json()["outage"] is False, reply.text
            continue
        kw: dict[str, Any] = {"params": READ_QUERY} if method == "get" else {"json": {}}
        reply = await stack.call("bpjs_simulator", "bpjs", method, filled(stack, path), **kw)
        if reply.status_code in (401, 403):
            refused.append((method, path, reply.status_code))
    assert refused == []
    # The claims BPJS pushed while the run was seeded were recorded by the claims service.
    samosir = stack.people["samosir_enrolled"]
    claim = await stack.call("claims", "admin", "GET", f"/claims/{samosir.claim_id}")
    assert claim.status_code == 200 and claim.json()["kpj"] == samosir.kpj


async def test_a_regency_officer_has_nothing_to_do_at_the_simulator(stack: Stack) -> None:
    wrong = []
    for _, method, path in [r for r in every_route(stack) if r[0] == "bpjs_simulator"]:
        reply = await stack.call("bpjs_simulator", "officer", method, filled(stack, path), json={})
        if reply.status_code != 403:
            wrong.append((method, path, reply.status_code))
    assert wrong == []
