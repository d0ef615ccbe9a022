"""Decrees through Kafka and PostgreSQL: the SK freezes the list (DecreeIssued with its SHA-256),
AssignmentDecreed goes to enrollment for each decreed worker, an SK perubahan records who left and
who replaced them, and the annex (CSV and PDF) adds up to the read model.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from libs.db import make_engine
from libs.eventstore.store import row_to_envelope
from libs.runtime.migrate import upgrade
from services.allocation.adapters.projections import project
from services.allocation.adapters.tables import (
    assignments,
    decree_entries,
    decrees,
    eventstore,
    programmes,
    quota_cells,
)
from tests.infra import Infra, fresh_database_url
from tests.integration.allocation.support import (
    People,
    Service,
    Worker,
    allocation_records,
    drained,
    one_instance,
    programme_yaml,
    stored,
    validated,
    withdrawn,
)

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6].upper()
CODE = f"SK-{RUN}"
COST = 16_800 * 12
CAP = 10 * COST
SEATS = {("12.71", "sawit"): 3, ("12.04", "non_sawit"): 2, ("12.17", "non_sawit"): 2}
FIRST = {"number": f"188.44/77/KPTS/{RUN}", "date": "2026-02-10", "signer": "Gubernur Sumatera Utara"}
SECOND = {"number": f"188.44/91/KPTS/{RUN}", "date": "2026-04-02", "signer": "Gubernur Sumatera Utara"}
FULL_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")


class Scene:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.workers: dict[str, Worker] = {}
        self.first: dict[str, Any] = {}
        self.second: dict[str, Any] = {}
        self.died: Worker | None = None


@pytest.fixture(scope="module")
async def scene(infra: Infra) -> AsyncIterator[Scene]:
    async with one_instance(infra) as service:
        s = Scene(service)
        await service.define(programme_yaml(CODE, SEATS, CAP))
        people = People(seed=5)
        demand = {("12.71", "sawit"): 4, ("12.04", "non_sawit"): 3, ("12.17", "non_sawit"): 2}
        for (regency, sector), n in demand.items():
            for _ in range(n):
                w = people.worker(regency, sector, 1)
                s.workers[w.worker_id] = w
                await service.feed([validated(w, CODE)])
        yield s


async def assigned_ids(service: Service) -> set[str]:
    rows = await service.get(f"/programmes/{CODE}/assignments", status="assigned")
    return {r["worker_id"] for r in rows}


def canonical_sha(rows: list[dict[str, str]]) -> str:
    lines = sorted(f"{r['worker_id']}|{r['kode_kab_kota']}|{r['sektor']}\n" for r in rows)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


async def test_nothing_is_decreed_before_the_sk_and_every_assignment_waits_for_it(scene: Scene) -> None:
    service = scene.service
    assert await service.get(f"/programmes/{CODE}/decrees") == []
    assigned = [e for e in await stored(service.engine, CODE) if e.event_type == "QuotaAssigned"]
    assert len(assigned) == 7 and all(e.payload["requires_decree"] for e in assigned)
    assert not [e for e in await stored(service.engine, CODE) if e.event_type == "AssignmentDecreed"]


async def test_the_decree_freezes_the_list_with_its_hash(scene: Scene) -> None:
    service = scene.service
    answer = await service.http.post(f"/programmes/{CODE}/decrees", json=FIRST)
    assert answer.status_code == 201, answer.text
    scene.first = answer.json()
    assert (scene.first["version"], scene.first["worker_count"], scene.first["total_cost"]) == (
        1,
        7,
        7 * COST,
    )

    events = await stored(service.engine, CODE)
    issued = [e for e in events if e.event_type == "DecreeIssued"]
    decreed = [e for e in events if e.event_type == "AssignmentDecreed"]
    assert len(issued) == 1 and issued[0].payload["list_sha256"] == scene.first["list_sha256"]
    assert {e.payload["worker_id"] for e in decreed} == await assigned_ids(service)
    assert all(
        e.payload["decree_number"] == FIRST["number"] and e.payload["decree_version"] == 1 for e in decreed
    )
    assert decreed[0].payload["identity"]["nik"] in {
        w.nik for w in scene.workers.values()
    }  # enrollment needs it

    # The hash is the SHA-256 of the canonical list, recomputable from the CSV annex.
    annex = await service.http.get(f"/programmes/{CODE}/decrees/1/annex.csv")
    rows = [r for r in csv.DictReader(io.StringIO(annex.text)) if r["baris"] == "pekerja"]
    assert canonical_sha(rows) == scene.first["list_sha256"]

    await drained(service.rt)
    published = await allocation_records(service.bootstrap, {CODE}, expected=len(events))
    on_bus = [e for e in published if e.event_type in ("DecreeIssued", "AssignmentDecreed")]
    assert len(on_bus) == 8
    assert {
        e.payload["worker_id"] for e in on_bus if e.event_type == "AssignmentDecreed"
    } == await assigned_ids(service)


async def test_repeating_a_decree_is_idempotent_and_its_number_is_unique(scene: Scene) -> None:
    http = scene.service.http
    again = await http.post(f"/programmes/{CODE}/decrees", json=FIRST)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["list_sha256"] == scene.first["list_sha256"]
    other_date = await http.post(f"/programmes/{CODE}/decrees", json={**FIRST, "date": "2026-02-11"})
    assert other_date.status_code == 409 and other_date.json()["detail"]["code"] == "DECREE_NUMBER_USED"
    unchanged = await http.post(f"/programmes/{CODE}/decrees", json={**FIRST, "number": "X/1"})
    assert unchanged.status_code == 409 and unchanged.json()["detail"]["code"] == "DECREE_UNCHANGED"
    bad_date = await http.post(f"/programmes/{CODE}/decrees", json={**FIRST, "date": "10-02-2026"})
    assert bad_date.status_code == 422 and bad_date.json()["detail"]["code"] == "DECREE_DATE_INVALID"


async def test_after_the_decree_seats_are_final_and_late_workers_queue_behind(scene: Scene) -> None:
    service = scene.service
    late = People(seed=55).worker("12.71", "sawit", 1)
    scene.workers[late.worker_id] = late
    await service.feed([validated(late, CODE)])
    last = (await stored(service.engine, CODE))[-1]
    assert (last.event_type, last.payload["worker_id"], last.payload["decree_round"]) == (
        "QuotaWaitlisted",
        late.worker_id,
        1,
    )
    waitlist = await service.get(f"/programmes/{CODE}/waitlist", regency="12.71")
    assert waitlist["items"][-1]["worker_id"] == late.worker_id


async def test_an_sk_perubahan_records_the_replacement(scene: Scene) -> None:
    service = scene.service
    medan = [
        r
        for r in await service.get(f"/programmes/{CODE}/assignments", status="assigned")
        if r["regency_code"] == "12.71"
    ]
    scene.died = scene.workers[medan[0]["worker_id"]]
    waiting_first = (await service.get(f"/programmes/{CODE}/waitlist", regency="12.71"))["items"][0][
        "worker_id"
    ]
    await service.feed([withdrawn(scene.died, CODE, "died")])
    promoted = (await stored(service.engine, CODE))[-1]
    assert (promoted.event_type, promoted.payload["worker_id"]) == ("QuotaAssigned", waiting_first)
    assert promoted.payload["requires_decree"]  # enrollment waits for the SK perubahan

    answer = await service.http.post(f"/programmes/{CODE}/decrees", json=SECOND)
    assert answer.status_code == 201, answer.text
    scene.second = answer.json()
    assert (scene.second["version"], scene.second["added"], scene.second["removed"]) == (2, 1, 1)
    assert scene.second["supersedes"] == FIRST["number"] and scene.second["worker_count"] == 7
    decreed = [
        e
        for e in await stored(service.engine, CODE)
        if e.event_type == "AssignmentDecreed" and e.payload["decree_number"] == SECOND["number"]
    ]
    assert [e.payload["worker_id"] for e in decreed] == [waiting_first]

    detail = await service.get(f"/programmes/{CODE}/decrees/2")
    assert [a["worker_id"] for a in detail["changes"]["added"]] == [waiting_first]
    assert [(r["worker_id"], r["release_reason"]) for r in detail["changes"]["removed"]] == [
        (scene.died.worker_id, "died")
    ]
    assert (
        detail["changes"]["removed"][0]["nik_masked"] == scene.died.nik[:4] + "*" * 10 + scene.died.nik[-2:]
    )
    latest = await service.get(f"/programmes/{CODE}/decrees/latest")
    assert latest["decree_number"] == SECOND["number"]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def money(text: str, label: str) -> int:
    match = re.search(rf"{label}: Rp([\d.]+)", text)
    assert match, f"{label} not in the annex"
    return int(match.group(1).replace(".", ""))


async def test_the_pdf_annex_adds_up_to_the_read_model(scene: Scene) -> None:
    service = scene.service
    answer = await service.http.get(f"/programmes/{CODE}/decrees/2/annex.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.content)
    decree = await service.get(f"/programmes/{CODE}/decrees/2")
    programme = await service.get(f"/programmes/{CODE}")
    cells = await service.get(f"/programmes/{CODE}/quotas")

    assert f"NOMOR: {SECOND['number']}" in text and "TANGGAL: 2 APRIL 2026" in text
    assert "LAMPIRAN KEPUTUSAN GUBERNUR SUMATERA UTARA" in text
    assert int(re.search(r"Jumlah pekerja: ([\d.]+)", text).group(1)) == decree["worker_count"]  # type: ignore[union-attr]
    assert decree["worker_count"] == programme["assigned"] == sum(c["assigned"] for c in cells)
    assert money(text, "Jumlah biaya") == decree["total_cost"] == programme["budget"]["committed_rupiah"]
    assert money(text, "Pagu anggaran") == programme["budget"]["budget_cap"] == CAP
    assert money(text, "Sisa pagu") == programme["budget"]["headroom"]
    for cell in cells:
        name = {"12.71": "Kota Medan", "12.04": "Kabupaten Nias", "12.17": "Kabupaten Samosir"}[
            cell["regency_code"]
        ]
        sector = "Sawit" if cell["sector"] == "sawit" else "Non-sawit"
        assert f"Jumlah {name} Sektor {sector}: {cell['assigned']} pekerja" in text
    # Names with masked NIKs; never a full NIK.
    listed = await assigned_ids(service)
    for worker_id in listed:
        w = scene.workers[worker_id]
        assert w.nik[:4] + "*" * 10 + w.nik[-2:] in text
    assert not FULL_NIK.search(text)
    assert "C. PERUBAHAN TERHADAP KEPUTUSAN NOMOR" in text and "Dikeluarkan: 1 pekerja" in text
    assert scene.died is not None and "meninggal dunia" in text


async def test_the_csv_annex_totals_match_and_hide_niks(scene: Scene) -> None:
    service = scene.service
    annex = (await service.http.get(f"/programmes/{CODE}/decrees/latest/annex.csv")).text
    rows = list(csv.DictReader(io.StringIO(annex)))
    workers = [r for r in rows if r["baris"] == "pekerja"]
    total = next(r for r in rows if r["baris"] == "jumlah")
    assert len(workers) == int(total["jumlah_pekerja"]) == scene.second["worker_count"]
    assert int(total["biaya_rp"]) == scene.second["total_cost"]
    assert int(next(r for r in rows if r["baris"] == "pagu")["biaya_rp"]) == CAP
    cells = {
        (c["regency_code"], c["sector"]): c["assigned"]
        for c in await service.get(f"/programmes/{CODE}/quotas")
    }
    subtotals = {
        (r["kode_kab_kota"], r["sektor"]): int(r["jumlah_pekerja"])
        for r in rows
        if r["baris"] == "jumlah_sektor"
    }
    assert subtotals == {k: v for k, v in cells.items() if v}
    assert canonical_sha(workers) == scene.second["list_sha256"]
    assert not FULL_NIK.search(annex)
    assert all(re.fullmatch(r"\d{4}\*{10}\d{2}", r["nik"]) for r in workers)


async def test_refused_decrees(scene: Scene) -> None:
    service = scene.service
    empty_code = f"SK-EMPTY-{RUN}"
    await service.define(programme_yaml(empty_code, {("12.71", "sawit"): 1}, COST))
    empty = await service.http.post(f"/programmes/{empty_code}/decrees", json=FIRST)
    assert empty.status_code == 409 and empty.json()["detail"]["code"] == "DECREE_EMPTY"
    # A budget cut below the list: the SK would spend more than the cap.
    cut = await service.http.put(f"/programmes/{CODE}/budget", json={"budget_cap": 6 * COST})
    assert cut.status_code == 200
    over = await service.http.post(f"/programmes/{CODE}/decrees", json={**SECOND, "number": "Z/9"})
    assert over.status_code == 409 and over.json()["detail"]["code"] == "DECREE_OVER_BUDGET"
    assert "melebihi pagu Rp1.209.600" in over.json()["detail"]["message"]
    missing = await service.http.get(f"/programmes/{CODE}/decrees/9")
    assert missing.status_code == 404 and missing.json()["detail"]["code"] == "DECREE_UNKNOWN"


async def test_the_read_models_rebuild_from_the_event_log(scene: Scene, infra: Infra) -> None:
    """Replaying allocation's own events into a fresh schema gives the same read models."""
    live = scene.service.engine
    async with live.connect() as conn:
        log = [
            row_to_envelope(r)
            for r in await conn.execute(select(eventstore.events).order_by(eventstore.events.c.position))
        ]
    url = await asyncio.to_thread(fresh_database_url, infra, "lindung_alloc_replay")
    await asyncio.to_thread(upgrade, "allocation", url)
    replica = make_engine(url)
    try:
        async with replica.begin() as conn:
            for envelope in log:
                await project(conn, envelope)
        for table in (programmes, quota_cells, assignments, decrees, decree_entries):
            query = select(table).order_by(*table.primary_key.columns)
            async with live.connect() as a, replica.connect() as b:
                assert (await a.execute(query)).all() == (await b.execute(query)).all(), table.name
    finally:
        await replica.dispose()
