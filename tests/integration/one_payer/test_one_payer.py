"""One payer per worker, one rule in the registry and allocation; order and priority as
documented, also within one consumer batch; the per-village cap (issue 13, items 3, 5, 8).

Everything enters where a user sends it (the registry's and allocation's HTTP APIs) and is read
where a user reads it (HTTP); the services between are the real ones, on Kafka and PostgreSQL.
The tests run in file order on one stack (conftest.py): the first starts allocation.
"""

from __future__ import annotations

from typing import Any

import pytest

from libs.regions.places import desa_of_regency, kecamatan_by_code
from tests.integration.one_payer.conftest import EXAMPLES, Stack
from tests.running import eventually

pytestmark = pytest.mark.integration

APBD = "LABUHANBATU-2025-APBD"
DBH = "LABUHANBATU-2025-DBH-SAWIT"
APBD_NAME = "Bantuan iuran BPJS Ketenagakerjaan pekerja rentan Kabupaten Labuhanbatu 2025 (APBD)"
DBH_NAME = "Bantuan iuran BPJS Ketenagakerjaan pekerja sawit Kabupaten Labuhanbatu 2025 (SILPA DBH Sawit)"


def small_programme(code: str, seats: int) -> str:
    return (
        f"code: {code}\nname: Uji urutan {code}\nyear: 2025\nfunder: APBD_KABUPATEN\n"
        'jurisdiction: "12.10"\ncoverage_start: 2025-01-01\n'
        f"budget_cap: {seats * 201_600}\ndecree_kind: SK_BUPATI\nquotas:\n"
        f'  - {{regency: "12.10", sector: sawit, seats: {seats}}}\n'
    )


def reason(result: dict[str, Any], code: str) -> dict[str, Any]:
    found = [r for r in result["reasons"] if r["code"] == code]
    assert found, result
    return found[0]


async def test_nominations_posted_back_to_back_land_in_nomination_order(stack: Stack) -> None:
    # Issue 13: three desil-1 nominations posted back to back into 2 seats; the first-nominated
    # was waitlisted and the third seated. Here allocation is down while they are posted, then
    # reads them in one consumer batch, which holds each partition's records together. Twice:
    # first nominated on the highest partition, then on the lowest, so that whichever order the
    # batch lists partitions in, one of the two programmes gets its nominations in reverse.
    descending = await stack.define(small_programme("ORDER-DESC-2025", seats=2))
    ascending = await stack.define(small_programme("ORDER-ASC-2025", seats=2))
    by_partition: dict[int, list[str]] = {}
    while sum(1 for niks in by_partition.values() if len(niks) >= 2) < 3:
        nik = stack.nik()
        by_partition.setdefault(stack.partition(nik), []).append(nik)
    parts = sorted(p for p, niks in by_partition.items() if len(niks) >= 2)[:3]
    orders = {
        descending: [by_partition[p][0] for p in reversed(parts)],
        ascending: [by_partition[p][1] for p in parts],
    }
    await stack.in_p3ke({nik: 1 for niks in orders.values() for nik in niks})
    await stack.stop_allocation()

    for programme, niks in orders.items():
        results = [await stack.nominate(programme, nik) for nik in niks]
        assert [r["status"] for r in results] == ["validated"] * 3
    await stack.registry_published()
    alloc = await stack.allocation()

    for programme, niks in orders.items():
        first, second, third = [await stack.assignment(programme, nik) for nik in niks]
        assert (first["status"], second["status"], third["status"]) == ("assigned", "assigned", "waitlisted")
        waitlist = (await alloc.http.get(f"/programmes/{programme}/waitlist")).json()
        assert [w["worker_id"] for w in waitlist["items"]] == [stack.worker_id(niks[2])]


async def test_labuhanbatu_apbd_first_keeps_the_worker_and_names_itself(stack: Stack) -> None:
    for example in ("labuhanbatu-2025-apbd.yaml", "labuhanbatu-2025-dbh-sawit.yaml"):
        await stack.define((EXAMPLES / example).read_text(encoding="utf-8"))
    nik = stack.nik()
    await stack.in_p3ke({nik: 1})

    await stack.nominate_seated(APBD, nik)
    dbh = await stack.nominate(DBH, nik)

    assert dbh["status"] == "rejected"
    duplicate = reason(dbh, "DUPLICATE_NOMINATION")
    assert duplicate["details"]["programme_code"] == APBD
    assert duplicate["details"]["programme_name"] == APBD_NAME
    assert f"{APBD} ({APBD_NAME})" in duplicate["message"]


async def test_labuhanbatu_dbh_sawit_first_keeps_the_worker_and_names_itself(stack: Stack) -> None:
    nik = stack.nik()
    await stack.in_p3ke({nik: 2})

    await stack.nominate_seated(DBH, nik)
    apbd = await stack.nominate(APBD, nik)

    assert apbd["status"] == "rejected"
    assert reason(apbd, "DUPLICATE_NOMINATION")["details"]["programme_code"] == DBH
    assert DBH_NAME in reason(apbd, "DUPLICATE_NOMINATION")["message"]


async def test_a_worker_waiting_under_one_funder_is_taken_by_the_other_and_leaves_the_first_waitlist(
    stack: Stack,
) -> None:
    alloc = await stack.allocation()
    # APBD's sawit seats cut to those taken: the next APBD nomination waits (no seat).
    quotas = (await alloc.http.get(f"/programmes/{APBD}/quotas")).json()
    sawit = next(q for q in quotas if q["sector"] == "sawit")
    cut = await alloc.http.put(
        f"/programmes/{APBD}/quotas/12.10/sawit", json={"seats": sawit["assigned"], "note": "uji"}
    )
    assert cut.status_code == 200, cut.text
    nik = stack.nik()
    await stack.in_p3ke({nik: 1})

    apbd = await stack.nominate(APBD, nik)
    assert (await stack.assignment(APBD, nik))["status"] == "waitlisted"
    await stack.seat_in_registry(apbd["nomination_id"], "waitlisted")

    # Waitlisted holds nobody: DBH Sawit may nominate and seat the worker...
    dbh = await stack.nominate(DBH, nik)
    assert dbh["status"] == "validated", dbh
    assert (await stack.assignment(DBH, nik))["status"] == "assigned"
    # ... and APBD lets the worker go from its waitlist, naming who keeps them.
    released = await stack.assignment_becomes(APBD, nik, "released")
    assert (released["release_reason"], released["held_by"]) == ("held_by_other_programme", DBH)
    assert released["held_by_name"] == DBH_NAME
    await stack.seat_in_registry(apbd["nomination_id"], "released")
    # The officer sees it on the nomination too.
    row = (await stack.registry.http.get(f"/nominations/{apbd['nomination_id']}")).json()
    assert (row["status"], row["seat"], row["held_by"]) == ("validated", "released", DBH)

    # A seat opening in APBD later cannot take them: one payer.
    raised = await alloc.http.put(
        f"/programmes/{APBD}/quotas/12.10/sawit", json={"seats": sawit["assigned"] + 5, "note": "uji"}
    )
    assert raised.status_code == 200, raised.text
    assert stack.worker_id(nik) not in raised.json()["promoted"]
    assert (await stack.assignment(APBD, nik))["status"] == "released"
    # And the registry now refuses a third funder... here APBD again, naming DBH Sawit.
    again = await stack.nominate(APBD, nik)
    assert reason(again, "DUPLICATE_NOMINATION")["details"]["programme_code"] == DBH


async def test_a_village_at_its_cap_waits_and_a_seat_freed_there_goes_to_it(stack: Stack) -> None:
    # Labuhanbatu APBD: at most 100 seated per desa (village_cap). A village of its own here.
    desa = desa_of_regency("12.10")[5]
    kecamatan = kecamatan_by_code(desa.kecamatan_code)
    assert kecamatan is not None
    place = {"kecamatan": kecamatan.name, "desa": desa.name, "sector": "non_sawit", "occupation": "petani"}
    niks = [stack.nik() for _ in range(101)]
    await stack.in_p3ke({nik: 1 for nik in niks})

    results = [await stack.nominate(APBD, nik, **place) for nik in niks]
    assert {r["status"] for r in results} == {"validated"}

    rows = [await stack.assignment(APBD, nik) for nik in niks]
    assert [r["status"] for r in rows].count("assigned") == 100
    (waiting,) = [(nik, r) for nik, r in zip(niks, rows, strict=True) if r["status"] == "waitlisted"]
    assert waiting[0] == niks[-1]  # nominated last, desil 1 like the rest
    alloc = await stack.allocation()
    waitlist = (await alloc.http.get(f"/programmes/{APBD}/waitlist", params={"sector": "non_sawit"})).json()
    assert [(w["worker_id"], w["reason"]) for w in waitlist["items"]] == [
        (stack.worker_id(niks[-1]), "village_full")
    ]

    # A villager withdrawn (died): the seat goes to the village's waiting worker.
    withdrawn = await stack.registry.http.post(
        f"/nominations/{results[0]['nomination_id']}/withdrawal", json={"reason": "died"}
    )
    assert withdrawn.status_code == 201, withdrawn.text
    promoted = await stack.assignment_becomes(APBD, niks[-1], "assigned")
    assert promoted["status"] == "assigned"


async def test_enrollment_failure_frees_the_worker_and_enrolled_keeps_them(stack: Stack) -> None:
    # DBH Sawit's list is fixed by a decree; BPJS refuses one worker (NIK unknown to Dukcapil).
    refused, accepted = stack.nik(bpjs_accepts=False), stack.nik(bpjs_accepts=True)
    await stack.in_p3ke({refused: 1, accepted: 1})
    nominated = {nik: await stack.nominate_seated(DBH, nik) for nik in (refused, accepted)}
    alloc = await stack.allocation()
    decree = await alloc.http.post(
        f"/programmes/{DBH}/decrees",
        json={"number": "188.45/13/KPTS/2025", "date": "2025-02-03", "signer": "Bupati Labuhanbatu"},
    )
    assert decree.status_code in (200, 201), decree.text

    released = await stack.assignment_becomes(DBH, refused, "released", timeout_s=60)
    assert released["release_reason"] == "enrollment_failed"
    await stack.seat_in_registry(nominated[refused]["nomination_id"], "released")

    async def enrolled() -> bool:
        rows = (await stack.enrollment.http.get("/enrollments", params={"status": "enrolled"})).json()
        return any(r.get("worker_id") == stack.worker_id(accepted) for r in rows["items"])

    await eventually(enrolled, timeout_s=60)
    await stack.seat_in_registry(nominated[accepted]["nomination_id"], "enrolled")

    # The failed one may now be nominated by APBD and seated there; the enrolled one may not.
    free = await stack.nominate(APBD, refused)
    assert free["status"] == "validated", free
    assert (await stack.assignment(APBD, refused))["status"] in ("assigned", "waitlisted")
    kept = await stack.nominate(APBD, accepted)
    assert reason(kept, "DUPLICATE_NOMINATION")["details"]["programme_code"] == DBH
