"""A province-year through the real services, then every dashboard figure against the services'
own answers (issue 18): North Sumatra 2025 (docs/examples/sumut-2025.yaml) at 1/400 of its size
across its regencies, through the three doors, with what a year brings: a worker dies (released,
the first waiting worker promoted by an SK perubahan), one moves away (withdrawn, released), a
month paid late (coverage lapses, then is restored), Langkat stops paying (lapses, then BPJS ends
the memberships), claims paid. Then the dashboard's API JSON, PDF text and XLSX cells must equal
what the registry, allocation, enrollment and claims answer over HTTP, and every identity holds.
"""

from __future__ import annotations

import io
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from libs.runtime.service import create_app
from lindung_cli.benchmarks.programme_year import (
    People,
    Plan,
    Stack,
    read_programme,
    run_year,
    scale_programme,
    seats_of,
)
from services.dashboard.domain import labels as lb
from services.enrollment.entrypoints.app import definition as enrollment_definition
from tests.integration.seeds.conftest import RUN
from tests.running import running

pytestmark = pytest.mark.integration

FILE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "sumut-2025.yaml"
LANGKAT = "12.05"


async def total(http: httpx.AsyncClient, path: str, **params: Any) -> int:
    reply = await http.get(path, params={**params, "per_page": 1})
    reply.raise_for_status()
    return int(reply.json()["total"])


async def services_answers(stack: Stack, code: str) -> dict[str, Any]:
    """What the services themselves say about the programme, over HTTP."""
    registry, allocation = stack.http["registry"], stack.http["allocation"]
    nominations = {
        status: await total(registry, "/nominations", programme=code, status=status)
        for status in ("validated", "rejected", "withdrawn", "pending")
    }
    nominations["nominated"] = await total(registry, "/nominations", programme=code)
    decided = (await allocation.get(f"/programmes/{code}/assignments", params={"limit": 20_000})).json()
    statuses = Counter(a["status"] for a in decided)
    waiting = (await allocation.get(f"/programmes/{code}/waitlist")).json()["items"]
    stats = (await stack.http["enrollment"].get("/enrollments/stats", params={"programme": code})).json()
    claims = (await stack.http["claims"].get("/claims/summary", params={"programme": code})).json()
    return {
        "nominations": nominations,
        "decided": len(decided),
        "statuses": statuses,
        "decreed": sum(1 for a in decided if a["status"] == "assigned" and a["decreed_in"] is not None),
        "releases": Counter(a["release_reason"] for a in decided if a["status"] == "released"),
        "waiting": Counter(w["reason"] for w in waiting),
        "enrollment": stats["by_status"],
        "answers": stats["answers"],
        "claims": claims["total"],
        "flags": claims["flagged_by_code"],
        "decrees": (await allocation.get(f"/programmes/{code}/decrees")).json(),
    }


def pdf_lines(pdf: bytes) -> list[str]:
    return [
        line.strip() for page in PdfReader(io.BytesIO(pdf)).pages for line in page.extract_text().splitlines()
    ]


def shown_beside(lines: list[str], label: str, value: str) -> bool:
    """Whether the PDF prints `value` in the cell right after a cell reading `label`."""
    return any(lines[i] == label and lines[i + 1] == value for i in range(len(lines) - 1))


def sheet_rows(book: Any, name: str) -> list[dict[str, Any]]:
    sheet = book[name]
    header = [c.value for c in sheet[2]]
    return [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=3, values_only=True)]


async def test_every_dashboard_figure_equals_the_services_answers(stack: Stack) -> None:
    code = f"RECON-{RUN}"
    spec = scale_programme(read_programme(FILE), code, Fraction(1, 400))
    people = People(seed=1818, year=2025)
    seated = []
    for (regency, sector), n in seats_of(spec).items():
        seated += [people.worker(regency, sector, desil=1 + i % 2) for i in range(n)]
    first = seated[0]
    # Three wait for a seat: the death and the withdrawal free two; the third still waits.
    waiting = [people.worker(first.regency, first.sector, desil=2) for _ in range(3)]
    rejected = [people.worker("12.78", "non_sawit", desil=3), people.worker("12.72", "non_sawit", desil=4)]
    outcome = await run_year(
        stack,
        spec,
        seated,
        Plan(signer="Gubernur Sumatera Utara", stop_from=8, stop_for=LANGKAT),
        waiting=waiting,
        others=rejected,
        extract={w.nik: w.decile for w in [*seated, *waiting, *rejected]},
    )
    assert outcome.dead and outcome.withdrawn and outcome.promoted and outcome.stopped
    await stack.settle()
    dashboard = stack.http["dashboard"]
    data = (await dashboard.get(f"/api/programmes/{code}/summary")).json()
    t = data["totals"]
    truth = await services_answers(stack, code)

    # --- the API's figures are the services' answers
    assert {k: t[k] for k in truth["nominations"]} == truth["nominations"]
    assert t["withdrawn"] == 2  # the worker who died and the one who moved: each counted once
    assert t["validated"] + t["rejected"] + t["withdrawn"] + t["pending"] == t["nominated"]
    s = truth["statuses"]
    assert (t["assigned"], t["waitlisted"], t["declined"], t["released"]) == (
        s["assigned"], s["waitlisted"], s["declined"], s["released"],
    )  # fmt: skip
    assert t["decided"] == truth["decided"] and t["decreed"] == truth["decreed"]
    assert {r["code"]: r["count"] for r in data["releases"]} == dict(truth["releases"])
    assert {r["code"]: r["count"] for r in data["waitlist_reasons"]} == dict(truth["waiting"])
    assert t["waitlisted"] >= 1 and data["waitlist_reasons"][0]["code"] == "no_seat"
    e = truth["enrollment"]
    assert (t["enrolled"], t["failed"], t["registering"], t["membership_ended"]) == (
        e.get("enrolled", 0), e.get("failed", 0), e.get("requested", 0), e.get("membership_ended", 0),
    )  # fmt: skip
    assert t["membership_ended"] == len(outcome.stopped) > 0
    assert t["lapsed"] >= 1 + len(outcome.stopped)  # the late month's lapses, restored, and Langkat's
    assert t["seats"] == sum(seats_of(spec).values())
    assert (t["claims"], t["claims_amount"], t["claims_flagged"]) == (
        truth["claims"]["claims"], truth["claims"]["amount"], truth["claims"]["flagged"],
    )  # fmt: skip
    assert {f["code"]: f["count"] for f in data["claims"]["flags"]} == truth["flags"]
    assert (t["decrees"], t["decree_changes"]) == (len(truth["decrees"]), len(truth["decrees"]) - 1)
    bills = await outcome.year.month_bills()
    billed: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    for row in data["billing"]:
        billed[row["month"]] += row["billed"]
        paid[row["month"]] += row["paid"]
    for month, b in bills.items():
        assert (billed[month], paid[month]) == (b["totals"]["total"], b["totals"]["paid_total"]), month
    assert t["paid"] == data["budget"]["paid"] == sum(b["totals"]["paid_total"] for b in bills.values())
    assert [i["name"] for i in data["identities"] if not i["holds"]] == []
    assert len(data["identities"]) == 3
    filled = {r["name"]: r for r in data["rates"]}["seats_filled"]
    assert filled["percent"] == lb.percent(t["assigned"], t["seats"])

    # --- the PDF prints the same figures
    pdf = (await dashboard.get(f"/reports/{code}.pdf")).content
    lines = pdf_lines(pdf)
    for key in ("nominated", "validated", "rejected", "withdrawn", "assigned", "waitlisted", "released",
                "enrolled", "failed", "membership_ended", "seats"):  # fmt: skip
        assert shown_beside(lines, lb.COUNTER_LABELS[key], lb.number(t[key])), key
    assert shown_beside(lines, "Iuran dibayar", lb.rupiah(t["paid"]))
    assert "Kesesuaian angka" in lines and "TIDAK" not in lines
    assert "Definisi angka" in lines

    # --- the XLSX holds the same numbers, as numbers
    book = load_workbook(io.BytesIO((await dashboard.get(f"/reports/{code}.xlsx")).content))
    summary = {str(r["Indikator"]).strip(): r["Jumlah"] for r in sheet_rows(book, "Ringkasan")}
    for key in ("nominated", "validated", "rejected", "withdrawn", "pending", "decided", "assigned",
                "waitlisted", "declined", "released", "requested", "enrolled", "failed", "registering",
                "lapsed", "in_arrears", "membership_ended", "seats"):  # fmt: skip
        assert summary[lb.COUNTER_LABELS[key]] == t[key], key
    regencies = {r["Kode"]: r for r in sheet_rows(book, "Kabupaten-Kota") if r["Kode"]}
    for row in data["regencies"]:
        cells = regencies[row["code"]]
        assert (cells["Diusulkan"], cells["Dapat kuota"], cells["Terdaftar"], cells["Dilepas"]) == (
            row["nominated"], row["assigned"], row["enrolled"], row["released"],
        )  # fmt: skip
    assert all(r["Sesuai"] == "Ya" for r in sheet_rows(book, "Kesesuaian"))
    money = {r["Bulan"]: r for r in sheet_rows(book, "Iuran")}
    assert money["Jumlah"]["Dibayar"] == t["paid"] and money["Jumlah"]["Ditagih"] == t["billed"]

    # --- enrollment's answers are per programme and outlive the process
    assert truth["answers"].get("registration:APPLIED", 0) >= t["enrolled"]
    other = (
        await stack.http["enrollment"].get("/enrollments/stats", params={"programme": f"NONE-{RUN}"})
    ).json()
    assert other["answers"] == {}
    async with running(enrollment_definition()) as rt:  # a new enrollment process, same database
        app = create_app(enrollment_definition())
        app.state.runtime = rt
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e2") as again:
            restarted = (await again.get("/enrollments/stats", params={"programme": code})).json()
    assert restarted["answers"] == truth["answers"]
