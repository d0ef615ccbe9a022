"""Events on the four topics, as the services publish them -> the dashboard's API, reports and roles.

A small programme whose every number is known: two regencies, every stage of the funnel, a
promotion from the waitlist, a withdrawal, a corrected nomination, an enrollment failure, seats and
cap raised, a lapse (one restored), premiums, claims (one flagged, one outside any programme), a v1
nomination (upcast), a redelivered event and an event type the dashboard does not know.
Everything is read back through HTTP, with each role's key.
"""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from libs.regions import desa_of_regency, kecamatan_of_regency
from services.dashboard.entrypoints.app import definition
from tests.integration.dashboard.conftest import KEYS, OFFICER_REGENCY, RUN, Dashboard
from tests.integration.dashboard.support import COST, Feed, dump_text, person, publish, wait_consumed
from tests.support.envelopes import envelope_of

pytestmark = pytest.mark.integration

PROGRAMME = f"UJI-{RUN}-2025"
LABUHANBATU = f"LBH-{RUN}-2025"
SAMOSIR, MEDAN = "12.17", "12.71"
VILLAGE = desa_of_regency("12.10")[0].code
CAP = 2_000_000


def scenario() -> tuple[Feed, list[str], list[uuid.UUID]]:
    """The events, the personal data they carry, and the ids the dashboard must consume."""
    feed = Feed(PROGRAMME)
    feed.define("Program uji dasbor", 2025, CAP, {(SAMOSIR, "non_sawit"): 3, (MEDAN, "sawit"): 2})
    labuhanbatu = Feed(LABUHANBATU)  # a regency's own programme: not offered to Samosir's officer
    labuhanbatu.define(
        "Program Labuhanbatu",
        2025,
        2_016_000,
        {("12.10", "sawit"): 10},
        jurisdiction="12.10",
        requires_decree=False,
        village_cap=1,
    )
    farmer = person("12.10", "sawit", 1, seed=13)
    seat = labuhanbatu.nominate(farmer)
    labuhanbatu.validate(farmer, seat, desa=VILLAGE)
    labuhanbatu.assign(farmer, seat, desa=VILLAGE)
    feed.sent += labuhanbatu.sent
    w = [person(SAMOSIR, "non_sawit", i, seed=11) for i in range(1, 6)]
    m = [person(MEDAN, "sawit", i, seed=12) for i in range(1, 5)]
    # Samosir: five nominations, two rejected; three seats; one registration refused by BPJS.
    nid = {p.nik: feed.nominate(p) for p in w}
    for p in w[:3]:
        feed.validate(p, nid[p.nik])
    feed.reject(w[3], nid[w[3].nik], "NOT_IN_P3KE_OR_DTKS")
    feed.reject(w[4], nid[w[4].nik], "NOT_IN_P3KE_OR_DTKS", "AGE_ABOVE_MAX")
    # Medan: three validated for two seats; the second withdraws, the third is promoted.
    nid |= {p.nik: feed.nominate(p) for p in m[:3]}
    for p in m[:3]:
        feed.validate(p, nid[p.nik])
    for p in w[:3] + m[:2]:
        feed.assign(p, nid[p.nik])
    feed.waitlist(m[2], nid[m[2].nik], position=1)
    feed.decree("188.44/12/KPTS/2025", 1, 5)
    for p in w[:3] + m[:2]:
        feed.decreed(p, "188.44/12/KPTS/2025")
    feed.withdraw(m[1], nid[m[1].nik])
    feed.release(m[1], "withdrawn")
    feed.assign(m[2], nid[m[2].nik], promoted=True)
    feed.enrol(w[0])
    feed.enrol(w[1])
    feed.enrol(m[0])
    feed.fail(w[2])
    feed.release(w[2], "enrollment_failed")
    # Samosir gets a fourth seat; the fourth nomination is corrected, validated and seated.
    feed.seats(SAMOSIR, "non_sawit", 4, previous=3)
    feed.budget(CAP + 500_000, previous=CAP)
    feed.correct(w[3], nid[w[3].nik])
    feed.validate(w[3], nid[w[3].nik])
    feed.assign(w[3], nid[w[3].nik])
    feed.lapse(w[0])
    feed.restore(w[0])
    feed.lapse(m[0])
    feed.bill(SAMOSIR, "2025-01", w[:2])
    feed.bill(SAMOSIR, "2025-02", w[:2])
    feed.bill(MEDAN, "2025-01", m[:1])
    feed.bill(MEDAN, "2025-02", m[:1])  # never paid: Medan's February is in arrears
    feed.premium(SAMOSIR, "2025-01", 2)
    feed.premium(SAMOSIR, "2025-02", 2)
    feed.premium(MEDAN, "2025-01", 1)
    feed.claim(f"C-{RUN}-1", w[0], "JKK", "MEDICAL", date(2025, 2, 20), 5_000_000)
    feed.claim(f"C-{RUN}-2", m[0], "JKM", "DEATH", date(2025, 3, 10), 42_000_000)
    feed.flag(f"C-{RUN}-2", m[0], "INCIDENT_OUTSIDE_COVERAGE")
    feed.claim(f"C-{RUN}-3", None, "JKK", "MEDICAL", date(2025, 3, 12), 1_000_000)
    feed.flag(f"C-{RUN}-3", None, "UNKNOWN_PARTICIPANT")
    # A 2024-pilot nomination (WorkerNominated v1: `sawit` instead of `sector`), rejected.
    m4 = m[3]
    v1 = feed.nominate(m4)
    topic, key, env = feed.sent.pop()
    payload = {k: v for k, v in env.payload.items() if k != "sector"} | {"sawit": True}
    feed.raw(topic, key, env.model_copy(update={"schema_version": 1, "payload": payload}))
    feed.reject(m4, v1, "DUPLICATE_NOMINATION")
    # Redelivery of an event already sent, and a type this build of the dashboard does not know.
    topic, key, env = feed.sent[3]
    feed.raw(topic, key, env)
    stranger = envelope_of(
        None,
        "enrollment",
        f"billing-{PROGRAMME}",
        event_type="PremiumRefunded",
        payload={"programme_code": PROGRAMME, "amount": 16_800},
    )
    feed.raw("lindung.enrollment.v1", f"billing-{PROGRAMME}", stranger)
    personal = [p.nik for p in w + m] + [p.full_name for p in w + m] + [f"KPJ{p.nik[-10:]}" for p in w + m]
    expected_ids = [env.event_id for _, _, env in feed.sent if env.event_type != "PremiumRefunded"]
    return feed, personal, expected_ids


# A withdrawn nomination counts as withdrawn only (Medan: 3 validated, 1 of them withdrawn);
# `lapsed` counts coverage that ever lapsed, `in_arrears` what is lapsed now (issue 18).
EXPECTED = {
    SAMOSIR: {
        "nominated": 5, "validated": 4, "rejected": 1, "withdrawn": 0, "pending": 0, "assigned": 3,
        "waitlisted": 0, "declined": 0, "released": 1, "decided": 4, "decreed": 2, "requested": 3,
        "enrolled": 2, "failed": 1, "registering": 0, "lapsed": 1, "in_arrears": 0, "seats": 4,
    },
    MEDAN: {
        "nominated": 4, "validated": 2, "rejected": 1, "withdrawn": 1, "pending": 0, "assigned": 2,
        "waitlisted": 0, "declined": 0, "released": 1, "decided": 3, "decreed": 1, "requested": 1,
        "enrolled": 1, "failed": 0, "registering": 0, "lapsed": 1, "in_arrears": 1, "seats": 2,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
async def fed(dashboard: Dashboard) -> tuple[Dashboard, list[str]]:
    feed, personal, ids = scenario()
    await publish(dashboard.bootstrap, feed.sent)
    await wait_consumed(dashboard.engine, ids)
    return dashboard, personal


async def get(dashboard: Dashboard, role: str | None, path: str, **params: Any) -> Any:
    async with dashboard.client(role) as http:
        return await http.get(path, params=params)


async def test_province_figures_follow_the_events(fed: tuple[Dashboard, list[str]]) -> None:
    dashboard, _ = fed
    answer = await get(dashboard, "admin", f"/api/programmes/{PROGRAMME}/summary")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    rows = {r["code"]: r for r in data["regencies"]}
    assert len(rows) == 33  # the province overview lists every regency/city, with or without data
    for code, counts in EXPECTED.items():
        assert {k: rows[code][k] for k in counts} == counts, code
    assert rows["12.01"]["nominated"] == 0 and rows["12.01"]["seats"] == 0
    totals = data["totals"]
    assert totals["nominated"] == 9 and totals["validated"] == 6 and totals["rejected"] == 2
    assert totals["withdrawn"] == 1 and totals["nominated"] == 6 + 2 + 1 + totals["pending"]
    assert [s["count"] for s in data["funnel"]] == [9, 6, 5, 3, 3]
    assert [(i["name"], i["left"], i["holds"]) for i in data["identities"]] == [
        ("nominations", 9, True),
        ("allocation", 7, True),
        ("enrolment", 4, True),  # the promoted Medan worker waits for an SK perubahan
    ]
    assert data["scope"] | {"name": ""} == {
        "kind": "province", "regency_code": None, "per_village_cap": None, "whole_programme": True,
        "regency": None, "name": "",
    }  # fmt: skip
    assert {r["code"]: r["count"] for r in data["releases"]} == {"withdrawn": 1, "enrollment_failed": 1}
    assert [(b["month"], b["funder"], b["billed"], b["paid"], b["unpaid"]) for b in data["billing"]] == [
        ("2025-01", "APBD_PROVINSI", 3 * 16_800, 3 * 16_800, 0),
        ("2025-02", "APBD_PROVINSI", 3 * 16_800, 2 * 16_800, 16_800),
    ]
    assert totals["billed"] == 6 * 16_800 and totals["decrees"] == 1 and totals["decree_changes"] == 0
    assert [(k["type"], k["kind"], k["claims"]) for k in data["claims"]["kinds"]] == [
        ("JKK", "MEDICAL", 1),
        ("JKM", "DEATH", 1),
    ]
    filled = {r["name"]: r for r in data["rates"]}["seats_filled"]
    assert (filled["part"], filled["whole"], filled["percent"]) == (5, 6, "83,3%")
    # The corrected nomination is validated now: its old rejection no longer counts.
    assert {r["code"]: r["label"] for r in data["rejections"]} == {
        "NOT_IN_P3KE_OR_DTKS": "Tidak ada di P3KE maupun DTKS",
        "AGE_ABOVE_MAX": "Usia di atas batas maksimal",
        "DUPLICATE_NOMINATION": "Sudah diusulkan pihak lain",
    }
    assert all(r["count"] == 1 for r in data["rejections"])
    assert {r["code"]: r["count"] for r in data["failures"]} == {"NIK_NOT_FOUND": 1}
    assert data["budget"] == {
        "cap": CAP + 500_000,
        "cost_per_worker": COST,
        "allotment": 6 * COST,
        "committed": 5 * COST,
        "paid": 5 * 16_800,
        "remaining": CAP + 500_000 - 5 * COST,
    }
    assert rows[SAMOSIR]["paid"] == 4 * 16_800 and rows[MEDAN]["committed"] == 2 * COST
    # Per sector: the v1 nomination (`sawit: true`) counts as sawit.
    sectors = {s["sector"]: s for s in data["sectors"]}
    assert sectors["sawit"]["nominated"] == 4 and sectors["non_sawit"]["nominated"] == 5
    assert [(m["month"], m["JKK"], m["JKM"]) for m in data["claims"]["by_month"]] == [
        (
            "2025-02",
            {"claims": 1, "amount": 5_000_000, "flagged": 0},
            {"claims": 0, "amount": 0, "flagged": 0},
        ),
        (
            "2025-03",
            {"claims": 0, "amount": 0, "flagged": 0},
            {"claims": 1, "amount": 42_000_000, "flagged": 1},
        ),
    ]
    assert {f["code"]: f["count"] for f in data["claims"]["flags"]} == {"INCIDENT_OUTSIDE_COVERAGE": 1}
    assert [p["total"] for p in data["premiums"]] == [3 * 16_800, 2 * 16_800]
    assert data["decrees"][0]["number"] == "188.44/12/KPTS/2025"


async def test_duplicates_and_unknown_types_have_no_effect(fed: tuple[Dashboard, list[str]]) -> None:
    dashboard, _ = fed
    async with dashboard.client("admin") as http:
        stats = (await http.get("/stats")).json()
    # The redelivered event was dropped by the inbox; the unknown type never reached it.
    assert stats["dead_letters"] == 0
    assert stats["duplicates"] >= 1
    async with dashboard.engine.connect() as conn:
        from sqlalchemy import text

        unknown = (
            await conn.execute(
                text("SELECT count(*) FROM dashboard.inbox WHERE event_type = 'PremiumRefunded'")
            )
        ).scalar_one()
    assert unknown == 0


async def test_the_dashboard_holds_no_personal_data(fed: tuple[Dashboard, list[str]]) -> None:
    dashboard, personal = fed
    stored = await dump_text(dashboard.engine)
    assert PROGRAMME in stored  # the dump does see the dashboard's rows...
    leaked = [value for value in personal if value in stored]
    assert leaked == []  # ...and no NIK, name or KPJ among them, inbox included


async def test_a_regency_officer_sees_only_their_regency(fed: tuple[Dashboard, list[str]]) -> None:
    dashboard, _ = fed
    own = await get(dashboard, "officer", f"/api/programmes/{PROGRAMME}/summary")
    assert own.status_code == 200
    data = own.json()
    assert data["scope"]["regency"] == OFFICER_REGENCY and data["scope"]["name"] == "Kabupaten Samosir"
    assert data["scope"]["kind"] == "province" and not data["scope"]["whole_programme"]
    assert [r["code"] for r in data["regencies"]] == [OFFICER_REGENCY]
    assert {k: data["totals"][k] for k in EXPECTED[SAMOSIR]} == EXPECTED[SAMOSIR]
    assert {r["code"]: r["count"] for r in data["rejections"]} == {
        "NOT_IN_P3KE_OR_DTKS": 1,
        "AGE_ABOVE_MAX": 1,
    }
    assert data["budget"]["cap"] == 4 * COST  # their allotment, not the province's cap
    assert [m["month"] for m in data["claims"]["by_month"]] == ["2025-02"]
    other = await get(dashboard, "officer", f"/api/programmes/{PROGRAMME}/summary", regency=MEDAN)
    assert other.status_code == 403
    assert other.json()["detail"]["code"] == "FORBIDDEN"
    for ext in ("pdf", "xlsx"):
        refused = await get(dashboard, "officer", f"/reports/{PROGRAMME}.{ext}", regency=MEDAN)
        assert refused.status_code == 403
    offered = (await get(dashboard, "officer", "/api/programmes")).json()["items"]
    assert PROGRAMME in [p["code"] for p in offered] and LABUHANBATU not in [p["code"] for p in offered]
    everything = (await get(dashboard, "admin", "/api/programmes")).json()
    assert {PROGRAMME, LABUHANBATU} <= {p["code"] for p in everything["items"]} and 2025 in everything[
        "years"
    ]
    me = (await get(dashboard, "officer", "/api/me")).json()
    assert me["role"] == "regency_officer" and me["regency"] == OFFICER_REGENCY and not me["province_wide"]


async def test_a_regency_programme_shows_its_regency_and_its_villages(
    fed: tuple[Dashboard, list[str]],
) -> None:
    dashboard, _ = fed
    data = (await get(dashboard, "admin", f"/api/programmes/{LABUHANBATU}/summary")).json()
    assert data["scope"] == {
        "kind": "regency",
        "regency_code": "12.10",
        "per_village_cap": 1,
        "whole_programme": True,
        "regency": "12.10",
        "name": "Kabupaten Labuhanbatu",
    }
    assert [r["code"] for r in data["regencies"]] == ["12.10"]  # not 33 rows of zeros
    assert [(v["code"], v["assigned"], v["cap"], v["full"]) for v in data["villages"]] == [
        (VILLAGE, 1, 1, True)
    ]
    assert data["budget"]["cap"] == 2_016_000  # the regency's programme: its own cap
    held = {k["code"]: k["assigned"] for k in data["kecamatan"]}
    assert held[VILLAGE[:8]] == 1 and sum(held.values()) == 1
    assert set(held) == {k.code for k in kecamatan_of_regency("12.10")}  # every kecamatan, 0 or more
    # No decree needed: the seat holder's registration is due at once.
    assert (data["totals"]["decreed"], data["totals"]["requested"], data["totals"]["registering"]) == (
        0,
        1,
        1,
    )
    pdf = await get(dashboard, "admin", f"/reports/{LABUHANBATU}.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Wilayah: Kabupaten Labuhanbatu" in text and "tidak wajib SK" in text
    assert "Pemegang kuota per kecamatan di Kabupaten Labuhanbatu" in text  # the map of the regency
    assert "Pemegang kuota per desa/kelurahan (batas 1 per desa)" in text


# What the scenario does with Samosir's five workers (w[0]..w[4]), stage by stage.
SAMOSIR_FATES = (
    ("validated", "decided", "assigned", "decreed", "requested", "enrolled", "lapsed"),
    ("validated", "decided", "assigned", "decreed", "requested", "enrolled"),
    ("validated", "decided", "released", "requested", "failed"),
    ("validated", "decided", "assigned"),  # rejected, corrected, validated and seated (no decree yet)
    ("rejected",),
)


async def test_a_regencys_kecamatan_rows_follow_the_nik_and_add_up_to_the_regency(
    fed: tuple[Dashboard, list[str]],
) -> None:
    dashboard, _ = fed
    assert OFFICER_REGENCY == SAMOSIR
    data = (await get(dashboard, "officer", f"/api/programmes/{PROGRAMME}/summary")).json()
    rows = {k["code"]: k for k in data["kecamatan"]}
    # Every kecamatan of Samosir, with its name; no "unknown" row: every NIK names one of them.
    assert [(k["code"], k["name"]) for k in data["kecamatan"]] == [
        (k.code, k.name) for k in kecamatan_of_regency(SAMOSIR)
    ]
    expected: dict[str, dict[str, int]] = {code: {} for code in rows}
    for i, fates in enumerate(SAMOSIR_FATES):
        nik = person(SAMOSIR, "non_sawit", i + 1, seed=11).nik  # as published in WorkerNominated
        counts = expected[f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"]
        for stage in ("nominated", *fates):
            counts[stage] = counts.get(stage, 0) + 1
    assert len([c for c in expected.values() if c]) == 5  # five workers in five kecamatan
    regency = data["regencies"][0]
    for code, row in rows.items():
        assert "seats" not in row and "paid" not in row  # set or paid per regency, not per kecamatan
        figures = {k: v for k, v in row.items() if k not in ("code", "name", "committed")}
        assert figures == {k: expected[code].get(k, 0) for k in figures}, code
        assert row["committed"] == row["assigned"] * COST
    # The identity: the kecamatan rows add up to the regency's row, figure by figure.
    for key in set(rows[next(iter(rows))]) - {"code", "name"}:
        assert sum(r[key] for r in rows.values()) == regency[key], key
    # A regency programme: the nomination and the seat count in the kecamatan of the seat's desa.
    data = (await get(dashboard, "admin", f"/api/programmes/{LABUHANBATU}/summary")).json()
    kecamatan = data["kecamatan"]
    placed = [(k["code"], k["nominated"], k["validated"], k["assigned"]) for k in kecamatan if k["nominated"]]
    assert placed == [(VILLAGE[:8], 1, 1, 1)]


async def test_other_roles_and_strangers(fed: tuple[Dashboard, list[str]]) -> None:
    dashboard, _ = fed
    path = f"/api/programmes/{PROGRAMME}/summary"
    auditor = await get(dashboard, "auditor", path, regency=MEDAN)
    assert auditor.status_code == 200 and auditor.json()["totals"]["nominated"] == 4
    assert (await get(dashboard, "bpjs", path)).status_code == 403
    assert (await get(dashboard, None, path)).status_code == 401
    async with dashboard.client(None) as http:
        wrong = await http.get(path, headers={"Authorization": "Bearer not-a-key"})
        assert wrong.status_code == 401
        page = await http.get("/")
        assert page.status_code == 303 and page.headers["location"] == "/login"
        assert (await http.get(f"/api/programmes/NOPE-{RUN}/summary")).status_code == 401


async def test_login_form_sets_a_session_cookie(fed: tuple[Dashboard, list[str]]) -> None:
    dashboard, _ = fed
    async with dashboard.client(None) as http:
        form = await http.get("/login")
        assert form.status_code == 200 and "Kunci akses" in form.text
        refused = await http.post("/login", data={"api_key": "salah"})
        assert refused.status_code == 401 and "Kunci tidak dikenal" in refused.text
        login = await http.post("/login", data={"api_key": KEYS["officer"]})
        assert login.status_code == 303
        assert "lindung_session" in login.headers["set-cookie"] and "HttpOnly" in login.headers["set-cookie"]
        assert KEYS["officer"] not in login.headers["set-cookie"]
        me = await http.get("/api/me")
        assert me.status_code == 200 and me.json()["regency"] == OFFICER_REGENCY
        page = await http.get("/")
        assert page.status_code == 200 and "Dasbor Monitoring dan Evaluasi" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        await http.post("/logout")
        assert (await http.get("/api/me")).status_code == 401


async def test_reports_carry_the_same_figures(fed: tuple[Dashboard, list[str]]) -> None:
    dashboard, _ = fed
    pdf = await get(dashboard, "admin", f"/reports/{PROGRAMME}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f"monev-{PROGRAMME}.pdf" in pdf.headers["content-disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Laporan Monitoring dan Evaluasi" in text and "Provinsi Sumatera Utara" in text
    assert "Rp1.008.000" in text  # committed: 5 seats × Rp201.600
    assert "Tidak ada di P3KE maupun DTKS" in text and "Kabupaten Samosir" in text

    xlsx = await get(dashboard, "admin", f"/reports/{PROGRAMME}.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))

    def table(name: str) -> dict[Any, dict[Any, Any]]:
        header = [c.value for c in book[name][2]]
        return {
            r[0]: dict(zip(header, r, strict=True)) for r in book[name].iter_rows(min_row=3, values_only=True)
        }

    rows = table("Kabupaten-Kota")
    assert rows[SAMOSIR]["Diusulkan"] == 5 and rows[SAMOSIR]["Terdaftar"] == 2 and rows[SAMOSIR]["Kuota"] == 4
    assert rows[MEDAN]["Dibatalkan"] == 1 and rows[MEDAN]["Lolos"] == 2
    assert table("Anggaran per wilayah")[MEDAN]["Anggaran terikat"] == 2 * COST
    assert rows[None]["Diusulkan"] == 9  # the total row
    assert table("Kuota dilepas")["withdrawn"]["Jumlah"] == 1
    assert all(r["Sesuai"] == "Ya" for r in table("Kesesuaian").values())

    # The officer's own report holds their regency only.
    own = await get(dashboard, "officer", f"/reports/{PROGRAMME}.xlsx")
    assert own.status_code == 200
    assert f"monev-{PROGRAMME}-1217.xlsx" in own.headers["content-disposition"]
    codes = [
        r[0]
        for r in load_workbook(io.BytesIO(own.content))["Kabupaten-Kota"].iter_rows(
            min_row=3, values_only=True
        )
    ]
    assert codes == [SAMOSIR]


async def test_an_audit_replay_rebuilds_the_same_read_models(fed: tuple[Dashboard, list[str]]) -> None:
    """The inbox (minimised envelopes) replayed through `consumed_projector` gives the live tables."""
    replay_module = pytest.importorskip("libs.audit.replay")
    dashboard, _ = fed
    report = await replay_module.replay(dashboard.engine, definition())
    assert report.consumed_envelopes >= 40
    assert {t.table for t in report.tables} >= {"nominations", "placements", "claims", "quotas"}
    assert report.matches, report.first_mismatch


async def test_the_map_geometry_answers_an_unknown_regency_like_every_unknown(
    fed: tuple[Dashboard, list[str]],
) -> None:
    dashboard, _ = fed
    samosir = await get(dashboard, "officer", "/api/geo/kecamatan/12.17")
    assert samosir.status_code == 200
    assert {a["code"][:5] for a in samosir.json()["areas"]} == {"12.17"}
    for unknown in ("12.99", "x"):
        answer = await get(dashboard, "officer", f"/api/geo/kecamatan/{unknown}")
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"]["code"] == "REGENCY_UNKNOWN"
