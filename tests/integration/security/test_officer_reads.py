"""A regency officer bound to Samosir (12.17) reads Samosir's data only, in every service.

Their listings default to their regency, another regency asked for by name is 403, one record of
another regency is 403. Names are unmasked only for whoever answers for the worker's regency.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from libs.pii import mask_name, mask_nik
from tests.integration.security.conftest import MEDAN, PROGRAMME, SAMOSIR, SEEDED, Stack, expect
from tests.running import eventually

pytestmark = pytest.mark.integration


def forbidden(reply: object) -> None:
    import httpx

    assert isinstance(reply, httpx.Response)
    assert reply.status_code == 403, (
        f"{reply.request.method} {reply.request.url}: {reply.status_code} {reply.text}"
    )
    assert reply.json()["detail"]["code"] == "FORBIDDEN"


# --- registry ------------------------------------------------------------------------------------


async def test_the_officer_lists_samosir_nominations_only(stack: Stack) -> None:
    mine = await expect(
        await stack.call("registry", "officer", "GET", "/nominations", params={"per_page": 500}), 200
    )
    seeded = {stack.people[k].nomination_id: stack.people[k] for k in SEEDED}
    samosir = {nid for nid, p in seeded.items() if p.regency == SAMOSIR}
    listed = {item["nomination_id"] for item in mine["items"]}
    assert samosir <= listed
    assert {item["regency_code"] for item in mine["items"]} == {SAMOSIR}
    assert mine["total"] == len(mine["items"])
    explicit = await expect(
        await stack.call(
            "registry", "officer", "GET", "/nominations", params={"regency": SAMOSIR, "per_page": 500}
        ),
        200,
    )
    # The same nominations; a worker's seat may still be moving between the two reads (the stack's
    # last nominations are being decided while this test runs), so the ids are what is compared.
    assert [i["nomination_id"] for i in explicit["items"]] == [i["nomination_id"] for i in mine["items"]]
    forbidden(await stack.call("registry", "officer", "GET", "/nominations", params={"regency": MEDAN}))
    everyone = await expect(
        await stack.call("registry", "admin", "GET", "/nominations", params={"per_page": 500}), 200
    )
    assert set(seeded) <= {item["nomination_id"] for item in everyone["items"]}


async def test_the_officer_reads_one_samosir_nomination_and_no_other(stack: Stack) -> None:
    own, other = stack.people["samosir_enrolled"], stack.people["medan_enrolled"]
    got = await expect(
        await stack.call("registry", "officer", "GET", f"/nominations/{own.nomination_id}"), 200
    )
    assert got["full_name"] == own.full_name and got["nik"] == mask_nik(own.nik)
    await expect(
        await stack.call("registry", "officer", "GET", f"/nominations/{own.nomination_id}/history"), 200
    )
    forbidden(await stack.call("registry", "officer", "GET", f"/nominations/{other.nomination_id}"))
    forbidden(await stack.call("registry", "officer", "GET", f"/nominations/{other.nomination_id}/history"))


@pytest.mark.parametrize("role", ["admin", "auditor"])
async def test_names_are_masked_for_whoever_does_not_answer_for_the_worker(stack: Stack, role: str) -> None:
    for key in ("samosir_enrolled", "medan_enrolled"):
        person = stack.people[key]
        got = await expect(
            await stack.call("registry", role, "GET", f"/nominations/{person.nomination_id}"), 200
        )
        assert got["nik"] == mask_nik(person.nik)  # NIKs: masked for everyone
        assert got["full_name"] == (person.full_name if role == "admin" else mask_name(person.full_name))
    listed = await expect(
        await stack.call("registry", role, "GET", "/nominations", params={"per_page": 500}), 200
    )
    text = str(listed)
    for key in SEEDED:
        assert stack.people[key].nik not in text
        assert (stack.people[key].full_name in text) is (role == "admin")


# --- allocation ----------------------------------------------------------------------------------


async def test_allocation_lists_are_the_officers_regency(stack: Stack) -> None:
    base = f"/programmes/{PROGRAMME}"
    assignments = await expect(await stack.call("allocation", "officer", "GET", f"{base}/assignments"), 200)
    assert assignments and {a["regency_code"] for a in assignments} == {SAMOSIR}
    assert stack.people["samosir_enrolled"].worker_id in {a["worker_id"] for a in assignments}
    everyone = await expect(await stack.call("allocation", "admin", "GET", f"{base}/assignments"), 200)
    assert {a["regency_code"] for a in everyone} == {SAMOSIR, MEDAN}
    forbidden(
        await stack.call("allocation", "officer", "GET", f"{base}/assignments", params={"regency": MEDAN})
    )
    quotas = await expect(await stack.call("allocation", "officer", "GET", f"{base}/quotas"), 200)
    assert quotas and {c["regency_code"] for c in quotas} == {SAMOSIR}
    all_quotas = await expect(await stack.call("allocation", "auditor", "GET", f"{base}/quotas"), 200)
    assert {c["regency_code"] for c in all_quotas} == {SAMOSIR, MEDAN}
    await expect(await stack.call("allocation", "officer", "GET", f"{base}/waitlist"), 200)
    forbidden(await stack.call("allocation", "officer", "GET", f"{base}/waitlist", params={"regency": MEDAN}))


async def test_a_decree_annex_names_only_the_officers_own_workers(stack: Stack) -> None:
    samosir, medan = stack.people["samosir_enrolled"], stack.people["medan_enrolled"]
    for role, shown in {
        "officer": {samosir.full_name},
        "admin": {samosir.full_name, medan.full_name},
        "auditor": set(),
    }.items():
        # The first decree lists everyone in its annex (its `changes` are against a previous one).
        decree = await expect(
            await stack.call("allocation", role, "GET", f"/programmes/{PROGRAMME}/decrees/1"), 200
        )
        annex = await stack.call("allocation", role, "GET", f"/programmes/{PROGRAMME}/decrees/1/annex.csv")
        assert annex.status_code == 200, annex.text
        rows = list(csv.reader(io.StringIO(annex.text)))
        for person in (samosir, medan):
            name = person.full_name if person.full_name in shown else mask_name(person.full_name)
            assert any(name in row for row in rows), (role, person.key, name)
            if person.full_name not in shown:
                assert person.full_name not in annex.text and person.full_name not in str(decree)
            assert person.nik not in annex.text


# --- enrollment ----------------------------------------------------------------------------------


async def test_enrollment_is_the_officers_regency(stack: Stack) -> None:
    mine = await expect(
        await stack.call("enrollment", "officer", "GET", "/enrollments", params={"per_page": 500}), 200
    )
    assert mine["items"] and {e["regency_code"] for e in mine["items"]} == {SAMOSIR}
    everyone = await expect(
        await stack.call("enrollment", "auditor", "GET", "/enrollments", params={"per_page": 500}), 200
    )
    assert {e["regency_code"] for e in everyone["items"]} == {SAMOSIR, MEDAN}
    forbidden(await stack.call("enrollment", "officer", "GET", "/enrollments", params={"regency": MEDAN}))
    own, other = stack.people["samosir_enrolled"], stack.people["medan_enrolled"]
    await expect(await stack.call("enrollment", "officer", "GET", f"/enrollments/{own.worker_id}"), 200)
    # Another regency's worker is not found, like nobody's (issue 15: no oracle across regencies).
    hidden = await stack.call("enrollment", "officer", "GET", f"/enrollments/{other.worker_id}")
    assert hidden.status_code == 404
    on = {"on": "2026-06-15"}
    covered = await expect(
        await stack.call("enrollment", "officer", "POST", "/coverage", json={"nik": own.nik, **on}), 200
    )
    assert covered["worker_id"] == own.worker_id and covered["programmes"]  # answered about her
    # About another regency's worker: the answer for a person never enrolled (no 403).
    theirs = await expect(
        await stack.call("enrollment", "officer", "POST", "/coverage", json={"nik": other.nik, **on}), 200
    )
    assert (theirs["covered"], theirs["reason"], theirs["programmes"]) == (False, "NOT_ENROLLED", [])
    by_id = await expect(
        await stack.call("enrollment", "officer", "GET", f"/workers/{other.worker_id}/coverage", params=on),
        200,
    )
    assert (by_id["nik"], by_id["reason"], by_id["programmes"]) == (None, "NOT_ENROLLED", [])


# --- claims --------------------------------------------------------------------------------------


async def test_claims_are_the_officers_regency(stack: Stack) -> None:
    own, other = stack.people["samosir_enrolled"], stack.people["medan_enrolled"]
    mine = await expect(await stack.call("claims", "officer", "GET", "/claims"), 200)
    assert [c["claim_id"] for c in mine["items"]] == [own.claim_id]
    everyone = await expect(await stack.call("claims", "auditor", "GET", "/claims"), 200)
    assert {c["claim_id"] for c in everyone["items"]} == {own.claim_id, other.claim_id}
    forbidden(await stack.call("claims", "officer", "GET", "/claims", params={"regency": MEDAN}))
    summary = await expect(await stack.call("claims", "officer", "GET", "/claims/summary"), 200)
    assert summary["total"]["claims"] == 1
    forbidden(await stack.call("claims", "officer", "GET", "/claims/summary", params={"regency": MEDAN}))
    await expect(await stack.call("claims", "officer", "GET", f"/claims/{own.claim_id}"), 200)
    # Another regency's claim is not found, like nobody's (issue 15: no oracle across regencies).
    hidden = await stack.call("claims", "officer", "GET", f"/claims/{other.claim_id}")
    unknown = await stack.call("claims", "officer", "GET", "/claims/CLM-NOBODY")
    assert (
        (hidden.status_code, hidden.json())
        == (unknown.status_code, unknown.json())
        == (
            404,
            {"detail": {"code": "CLAIM_NOT_FOUND", "message": "Klaim tidak ditemukan."}},
        )
    )


# --- dashboard -----------------------------------------------------------------------------------


async def test_the_dashboard_shows_the_officer_their_regency(stack: Stack) -> None:
    path = f"/api/programmes/{PROGRAMME}/summary"

    async def both() -> tuple[Any, Any]:
        mine = await expect(await stack.call("dashboard", "officer", "GET", path), 200)
        samosir = await expect(
            await stack.call("dashboard", "admin", "GET", path, params={"regency": SAMOSIR}), 200
        )
        return mine, samosir

    # The dashboard may still be taking in the flow's last events between the two reads.
    async def agreeing() -> tuple[Any, Any] | None:
        mine, samosir = await both()
        return (mine, samosir) if mine["totals"] == samosir["totals"] else None

    mine, _ = await eventually(agreeing, timeout_s=30)
    assert mine["scope"]["regency"] == SAMOSIR
    province = await expect(await stack.call("dashboard", "admin", "GET", path), 200)
    assert (
        province["scope"]["regency"] is None and province["totals"]["nominated"] > mine["totals"]["nominated"]
    )
    forbidden(await stack.call("dashboard", "officer", "GET", path, params={"regency": MEDAN}))
    forbidden(
        await stack.call(
            "dashboard", "officer", "GET", f"/reports/{PROGRAMME}.xlsx", params={"regency": MEDAN}
        )
    )
    report = await stack.call("dashboard", "officer", "GET", f"/reports/{PROGRAMME}.xlsx")
    assert report.status_code == 200
    assert (
        "monev-" in report.headers["content-disposition"] and "1217" in report.headers["content-disposition"]
    )


async def test_premium_bills_are_the_officers_regency(stack: Stack) -> None:
    # The month the workers were enrolled in (their coverage, hence their bills, starts then).
    month = await stack.scalar(
        "SELECT to_char(min(enrolled_on), 'YYYY-MM') FROM enrollment.registrations WHERE programme_code = :p",
        p=PROGRAMME,
    )
    body = {"programme_code": PROGRAMME, "month": month}
    billed = await expect(await stack.call("enrollment", "admin", "POST", "/premiums/bills", json=body), 201)
    assert billed["created"], billed
    query = {"programme": PROGRAMME, "month": month}
    everyone = await expect(
        await stack.call("enrollment", "auditor", "GET", "/premiums/bills", params=query), 200
    )
    assert {line["regency_code"] for line in everyone["lines"]} == {SAMOSIR, MEDAN}
    mine = await expect(
        await stack.call("enrollment", "officer", "GET", "/premiums/bills", params=query), 200
    )
    assert {line["regency_code"] for line in mine["lines"]} == {SAMOSIR}
    samosir = [line for line in everyone["lines"] if line["regency_code"] == SAMOSIR]
    assert mine["totals"]["workers"] == sum(line["workers"] for line in samosir) > 0


async def test_enrollment_figures_are_the_officers_regency(stack: Stack) -> None:
    mine = await expect(await stack.call("enrollment", "officer", "GET", "/enrollments/stats"), 200)
    samosir = await expect(
        await stack.call("enrollment", "officer", "GET", "/enrollments", params={"per_page": 500}), 200
    )
    assert sum(mine["by_status"].values()) == samosir["total"]
    everyone = await expect(await stack.call("enrollment", "admin", "GET", "/enrollments/stats"), 200)
    assert sum(everyone["by_status"].values()) > samosir["total"]
