"""A regency officer bound to Samosir (12.17) changes Samosir's nominations only.

Nominating, uploading, correcting and withdrawing for Medan (12.71) is 403 and leaves nothing
behind; the same for Samosir goes through. What is the province admin's (programmes, quotas,
budgets, decrees, reference data, billing) is 403 for the officer whatever the regency.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.security.conftest import MEDAN, PROGRAMME, SAMOSIR, Person, Stack, expect

pytestmark = pytest.mark.integration

UPLOAD_HEADER = "NIK,Nama,Tanggal Lahir,Jenis Kelamin,Pekerjaan,Kecamatan,Desa,Sektor\n"
SCOPE_MESSAGE = f"Akun ini hanya dapat mengubah data kabupaten/kota {SAMOSIR}."


def refused_for_regency(reply: httpx.Response) -> None:
    assert reply.status_code == 403, f"{reply.request.method} {reply.request.url}: {reply.text}"
    assert reply.json()["detail"] == {"code": "FORBIDDEN", "message": SCOPE_MESSAGE}


def upload_file(person: Person) -> dict[str, Any]:
    kecamatan = "Pangururan" if person.regency == SAMOSIR else "Medan Kota"  # real: the registry checks
    row = (
        f"{person.nik},{person.full_name},{person.birth:%d-%m-%Y},{person.sex},petani,{kecamatan},"
        f"Desa Uji,{'non sawit' if person.regency == SAMOSIR else 'sawit'}\n"
    )
    return {"file": (f"usulan-{person.key}.csv", (UPLOAD_HEADER + row).encode(), "text/csv")}


async def nomination_state(stack: Stack, person: Person) -> tuple[Any, ...]:
    rows = await stack.rows(
        "SELECT status, corrections, updated_at FROM registry.nominations WHERE nomination_id = :n",
        n=person.nomination_id,
    )
    return tuple(rows[0])


async def nominations_of(stack: Stack, person: Person) -> int:
    sql = "SELECT count(*) FROM registry.nominations WHERE worker_id = :w"
    return int(await stack.scalar(sql, w=person.worker_id))


async def test_the_officer_cannot_nominate_for_another_regency(stack: Stack) -> None:
    medan = stack.people["medan_by_officer"]
    for written in (MEDAN, "1271", f" {MEDAN} "):
        body = medan.nomination(regency_code=written)
        refused_for_regency(await stack.call("registry", "officer", "POST", "/nominations", json=body))
    # Nor by calling a Medan worker a Samosir one: the NIK's regency decides (a rejection, not a seat).
    smuggled = await stack.call(
        "registry", "officer", "POST", "/nominations", json=medan.nomination(regency_code=SAMOSIR)
    )
    assert smuggled.status_code == 201 and smuggled.json()["status"] == "rejected", smuggled.text
    assert "NIK_REGENCY_MISMATCH" in {r["code"] for r in smuggled.json()["reasons"]}
    assert await nominations_of(stack, medan) == 1  # the rejected one, recorded as Samosir's


async def test_the_officer_cannot_upload_for_another_regency(stack: Stack) -> None:
    medan = stack.people["medan_inbound"]  # nominated later by its regency system: not yet known
    for regency in (MEDAN, "1271"):
        reply = await stack.call(
            "registry",
            "officer",
            "POST",
            "/nominations/upload",
            params={"programme": PROGRAMME, "regency": regency},
            files=upload_file(medan),
        )
        refused_for_regency(reply)
    assert await nominations_of(stack, medan) == 0


async def test_the_officer_cannot_correct_or_withdraw_another_regencys_nomination(stack: Stack) -> None:
    rejected, spare = stack.people["medan_rejected"], stack.people["medan_spare"]
    before = (await nomination_state(stack, rejected), await nomination_state(stack, spare))
    correction = {"decile": 1, "note": "salah ketik"}
    refused_for_regency(
        await stack.call(
            "registry",
            "officer",
            "POST",
            f"/nominations/{rejected.nomination_id}/corrections",
            json=correction,
        )
    )
    refused_for_regency(
        await stack.call(
            "registry",
            "officer",
            "POST",
            f"/nominations/{spare.nomination_id}/withdrawal",
            json={"reason": "moved"},
        )
    )
    after = (await nomination_state(stack, rejected), await nomination_state(stack, spare))
    assert after == before
    assert after[1][0] == "validated"


async def test_the_officer_nominates_uploads_corrects_and_withdraws_for_samosir(stack: Stack) -> None:
    own = stack.people["samosir_by_officer"]
    nominated = await expect(
        await stack.call("registry", "officer", "POST", "/nominations", json=own.nomination()), 201
    )
    assert nominated["status"] == "validated"
    got = await expect(
        await stack.call("registry", "admin", "GET", f"/nominations/{nominated['nomination_id']}"), 200
    )
    assert got["regency_code"] == SAMOSIR

    uploaded_person = stack.people["samosir_uploaded"]
    uploaded = await expect(
        await stack.call(
            "registry",
            "officer",
            "POST",
            "/nominations/upload",
            params={"programme": PROGRAMME, "regency": SAMOSIR},
            files=upload_file(uploaded_person),
        ),
        200,
    )
    assert uploaded["regency_code"] == SAMOSIR and uploaded["validated"] == 1, uploaded

    rejected = stack.people["samosir_rejected"]
    corrected = await expect(
        await stack.call(
            "registry",
            "officer",
            "POST",
            f"/nominations/{rejected.nomination_id}/corrections",
            json={"occupation": "nelayan", "note": "pekerjaan diperbaiki"},
            headers={"X-Lindung-Officer": "Bu Rina"},
        ),
        201,
    )
    assert corrected["nomination_id"] == rejected.nomination_id
    history = await expect(
        await stack.call("registry", "officer", "GET", f"/nominations/{rejected.nomination_id}/history"), 200
    )
    assert "Petugas Disnaker Samosir (Bu Rina)" in {h.get("corrected_by") for h in history}

    spare = stack.people["samosir_spare"]
    withdrawn = await expect(
        await stack.call(
            "registry",
            "officer",
            "POST",
            f"/nominations/{spare.nomination_id}/withdrawal",
            json={"reason": "moved"},
        ),
        201,
    )
    assert withdrawn["status"] == "withdrawn"


ADMIN_ONLY = [
    (
        "allocation",
        "POST",
        "/programmes",
        {"content": b"code: X", "headers": {"content-type": "application/yaml"}},
    ),
    ("allocation", "PUT", f"/programmes/{PROGRAMME}/budget", {"json": {"budget_cap": 1}}),
    ("allocation", "PUT", f"/programmes/{PROGRAMME}/quotas/{SAMOSIR}/non_sawit", {"json": {"seats": 500}}),
    (
        "allocation",
        "POST",
        f"/programmes/{PROGRAMME}/quotas/move",
        {
            "json": {
                "from_regency": MEDAN,
                "from_sector": "sawit",
                "to_regency": SAMOSIR,
                "to_sector": "non_sawit",
                "seats": 5,
            }
        },
    ),
    (
        "allocation",
        "POST",
        f"/programmes/{PROGRAMME}/decrees",
        {"json": {"number": "188.44/X/KPTS/2026", "date": "2026-03-01", "signer": "Bupati"}},
    ),
    ("registry", "POST", "/reference/p3ke", {"content": b"nik,desil\n"}),
    ("enrollment", "POST", "/premiums/bills", {"json": {"programme_code": PROGRAMME, "month": "2026-06"}}),
    ("enrollment", "POST", "/coverage/lapses", {}),
    ("bpjs_simulator", "POST", "/control/outage", {"params": {"seconds": 60}}),
    ("bpjs_simulator", "POST", "/control/claims", {"json": {}}),
]


@pytest.mark.parametrize(("service", "method", "path", "kw"), ADMIN_ONLY)
async def test_what_is_the_province_admins_is_refused_to_the_officer(
    stack: Stack, service: str, method: str, path: str, kw: dict[str, Any]
) -> None:
    reply = await stack.call(service, "officer", method, path, **kw)
    assert reply.status_code == 403, reply.text
    detail = reply.json()["detail"]
    assert detail["code"] == "FORBIDDEN"
    assert detail["message"].startswith("Peran regency_officer tidak berhak; yang berhak: ")
