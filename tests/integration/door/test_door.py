"""What can never be covered is refused at the door, with a reason in Indonesian, on every way in
(HTTP, list upload, inbound topic); the programme file's rules decide the rest (issue 13, items 4
and 8)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from pypdf import PdfReader

from libs.events import topics
from libs.events.envelope import Envelope
from libs.regions import desa_of_kecamatan, kecamatan_of_regency
from tests.integration.door.conftest import BIRTH, MARCH_2026, Door
from tests.running import eventually, read_matching

pytestmark = pytest.mark.integration

COST = 16_800 * 12
PANGURURAN = "12.17.08"
RANTAU_UTARA = "12.10.01"


def yaml_of(code: str, cells: dict[tuple[str, str], int], **settings: Any) -> str:
    fields = {
        "code": code,
        "name": f"Uji pintu {code}",
        "year": 2026,
        "funder": "APBD_PROVINSI",
        "jurisdiction": '"12"',
        "coverage_start": "2026-01-01",
        "budget_cap": COST * sum(cells.values()),
        "decree_kind": "SK_GUBERNUR",
        **settings,
    }
    lines = [f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in fields.items()]
    lines += ["quotas:", *(f'  - {{regency: "{r}", sector: {s}, seats: {n}}}' for (r, s), n in cells.items())]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
async def programmes(door: Door) -> dict[str, str]:
    run = door.run
    samosir = {("12.17", "non_sawit"): 10}
    return {
        # Samosir's own programme: its regency only, non-sawit only, P3KE desil 1-2 only.
        "samosir": await door.define(
            yaml_of(
                f"DOOR-SAMOSIR-{run}", samosir, funder="APBD_KABUPATEN", jurisdiction='"12.17"',
                decree_kind="SK_BUPATI", admit_dtks_only=False,
            )
        ),
        # The province's: DTKS admits (the default), a NIK issued elsewhere is a note (the default).
        "province": await door.define(
            yaml_of(f"DOOR-PROV-{run}", {("12.17", "non_sawit"): 1, ("12.10", "sawit"): 5})
        ),
        # One seat, for the ranking.
        "one_seat": await door.define(
            yaml_of(f"DOOR-RANK-{run}", {("12.17", "non_sawit"): 1}, funder="OTHER")
        ),
        "strict": await door.define(
            yaml_of(f"DOOR-STRICT-{run}", samosir, funder="DBH_SAWIT", nik_regency_must_match=True)
        ),
        "villages": await door.define(
            yaml_of(
                f"DOOR-DESA-{run}", {("12.10", "sawit"): 10}, funder="APBD_KABUPATEN",
                jurisdiction='"12.10"', decree_kind="SK_BUPATI", village_cap=100,
            )
        ),
        # Pakpak Bharat 2025's instrument: a Peraturan Kepala Daerah (the 2026 run of it here).
        "perkada": await door.define(
            yaml_of(
                f"DOOR-PAKPAK-{run}", {("12.15", "sawit"): 2}, funder="DBH_SAWIT", jurisdiction='"12.15"',
                decree_kind="PERKADA",
            )
        ),
        "ended": await door.define(
            yaml_of(f"DOOR-ENDED-{run}", samosir, year=2025, coverage_start="2025-01-01")
        ),
    }  # fmt: skip


def samosir_worker(door: Door, programme: str, nik: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "programme_code": programme,
        "nik": nik or door.nik("12.17"),
        "full_name": "Tiurma Sitanggang",
        "birth_date": BIRTH.isoformat(),
        "sex": "L",
        "occupation": "nelayan",
        "regency_code": "12.17",
        "kecamatan": "Pangururan",
        "desa": desa_of_kecamatan(PANGURURAN)[0].name,
        "sector": "non_sawit",
        **fields,
    }


def row_of(body: dict[str, Any]) -> list[str]:
    """The nomination as a row of a regency's list (the upload reads ISO dates too)."""
    fields = ("nik", "full_name", "birth_date", "sex", "occupation", "kecamatan", "desa", "sector")
    return [str(body[f]) for f in fields] + [str(body.get("decile") or "")]


def codes(reasons: list[dict[str, Any]]) -> list[str]:
    return [r["code"] for r in reasons]


async def in_p3ke(door: Door, *bodies: dict[str, Any], desil: int = 1) -> None:
    await door.reference(p3ke={b["nik"]: desil for b in bodies})


# --- item 4: what can never be covered ------------------------------------------------------


async def test_a_programme_whose_coverage_ended_takes_no_new_worker(
    door: Door, programmes: dict[str, str]
) -> None:
    ended = programmes["ended"]
    body = samosir_worker(door, ended)
    await in_p3ke(door, body)
    message = (
        f"Masa kepesertaan program {ended} sudah berakhir pada 31 Desember 2025; usulan baru tidak "
        "dapat lagi dilindungi. Usulkan ke program tahun berjalan."
    )

    answer = await door.post(body)
    assert answer.status_code == 409, answer.text
    assert answer.json() == {"detail": {"code": "PROGRAMME_ENDED", "message": message}}

    uploaded = await door.upload(ended, "12.17", [row_of(body)])
    assert uploaded.status_code == 409
    assert uploaded.json()["detail"]["code"] == "PROGRAMME_ENDED"

    ref = f"{door.run}-ended"
    reply = (await door.submit([(ref, "regency-12.17", body)]))[ref]
    assert reply.event_type == "NominationRejected" and reply.payload["status"] == "invalid"
    assert reply.payload["reasons"] == [{"code": "PROGRAMME_ENDED", "message": message, "details": {
        "programme_code": ended, "coverage_end": "31 Desember 2025"}}]  # fmt: skip
    listed = (await door.registry.http.get("/nominations", params={"programme": ended})).json()
    assert listed["total"] == 0  # nothing recorded

    # The business calendar decides, not the machine's: in November 2025 the same worker is taken.
    door.set_today(datetime.fromisoformat("2025-11-28T09:00:00+07:00"))
    try:
        answer = await door.post(body)
        assert answer.status_code == 201 and answer.json()["status"] == "validated", answer.text
    finally:
        door.set_today(MARCH_2026)


async def test_a_regency_outside_the_jurisdiction_or_without_a_seat_is_refused(
    door: Door, programmes: dict[str, str]
) -> None:
    samosir = programmes["samosir"]
    medan = samosir_worker(
        door,
        samosir,
        door.nik("12.71"),
        regency_code="12.71",
        kecamatan="Medan Kota",
        desa="Pasar Merah Barat",
    )
    sawit = samosir_worker(door, samosir, sector="sawit", occupation="pekerja sawit")
    await in_p3ke(door, medan, sawit)
    outside = (
        "Kota Medan berada di luar wilayah program ini (Kabupaten Samosir); usulan tidak dapat diterima."
    )
    no_seat = (
        "Program ini tidak menyediakan kuota untuk Kabupaten Samosir sektor sawit; "
        "pekerja ini tidak akan pernah mendapat kursi."
    )

    answer = (await door.post(medan)).json()
    assert answer["status"] == "rejected" and codes(answer["reasons"]) == ["REGENCY_OUTSIDE_JURISDICTION"]
    assert answer["reasons"][0]["message"] == outside
    answer = (await door.post(sawit)).json()
    assert answer["status"] == "rejected" and codes(answer["reasons"]) == ["NO_SEAT_IN_PROGRAMME"]
    assert answer["reasons"][0]["message"] == no_seat

    again = samosir_worker(door, samosir, sector="sawit", occupation="pekerja sawit")
    await in_p3ke(door, again)
    uploaded = (await door.upload(samosir, "12.17", [row_of(again)])).json()
    assert codes(uploaded["results"][0]["reasons"]) == ["NO_SEAT_IN_PROGRAMME"]

    medan_again = {**medan, "nik": door.nik("12.71")}
    await in_p3ke(door, medan_again)
    ref = f"{door.run}-outside"
    reply = (await door.submit([(ref, "regency-12.71", medan_again)]))[ref]
    assert reply.payload["status"] == "rejected"
    assert [(r["code"], r["message"]) for r in reply.payload["reasons"]] == [
        ("REGENCY_OUTSIDE_JURISDICTION", outside)
    ]


async def test_a_quota_change_that_opens_a_cell_opens_the_door(
    door: Door, programmes: dict[str, str]
) -> None:
    # The province's programme has no seat for Labuhanbatu non-sawit; the admin sets 3.
    province = programmes["province"]
    kecamatan = desa_of_kecamatan(RANTAU_UTARA)[0]

    def labuhanbatu() -> dict[str, Any]:
        return samosir_worker(
            door,
            province,
            door.nik("12.10"),
            regency_code="12.10",
            kecamatan="Rantau Utara",
            desa=kecamatan.name,
        )

    before, after = labuhanbatu(), labuhanbatu()
    await in_p3ke(door, before, after)
    assert codes((await door.post(before)).json()["reasons"]) == ["NO_SEAT_IN_PROGRAMME"]
    opened = await door.allocation.http.put(
        f"/programmes/{province}/quotas/12.10/non_sawit", json={"seats": 3, "note": "kuota baru"}
    )
    assert opened.status_code == 200, opened.text

    async def heard() -> bool:
        listed = (await door.registry.http.get("/programmes")).json()
        (mine,) = [p for p in listed if p["programme_code"] == province]
        return {"regency_code": "12.10", "sector": "non_sawit", "seats": 3} in mine["quotas"]

    await eventually(heard, timeout_s=30)
    assert (await door.post(after)).json()["status"] == "validated"


async def test_a_kecamatan_that_does_not_exist_is_refused_and_spellings_are_matched(
    door: Door, programmes: dict[str, str]
) -> None:
    province = programmes["province"]
    # Samosir has 9 kecamatan (12.17.01-09): a NIK saying 12.17.10 was mistyped.
    bad_nik = samosir_worker(door, province, door.nik("12.17", kecamatan=10))
    bad_name = samosir_worker(door, province, kecamatan="Kecamatan Uji")
    spelled = samosir_worker(
        door, province, kecamatan="KEC. pangururan", desa="  " + desa_of_kecamatan(PANGURURAN)[1].name.upper()
    )
    await in_p3ke(door, bad_nik, bad_name, spelled)

    answer = (await door.post(bad_nik)).json()
    assert codes(answer["reasons"]) == ["NIK_KECAMATAN_UNKNOWN"]
    assert answer["reasons"][0]["message"] == (
        "Kode kecamatan pada NIK (12.17.10) tidak ada di Kabupaten Samosir; periksa digit ke-5 dan ke-6 NIK."
    )
    answer = (await door.post(bad_name)).json()
    assert codes(answer["reasons"]) == ["KECAMATAN_UNKNOWN"]
    assert answer["reasons"][0]["message"].startswith(
        "Kecamatan 'Kecamatan Uji' tidak ditemukan di Kabupaten Samosir. Kecamatan yang ada: Simanindo, "
    )
    assert (await door.post(spelled)).json()["status"] == "validated"

    rows = [
        row_of({**bad_nik, "nik": door.nik("12.17", kecamatan=10)}),
        row_of({**bad_name, "nik": door.nik()}),
    ]
    await in_p3ke(door, *({"nik": r[0]} for r in rows))
    uploaded = (await door.upload(province, "12.17", rows)).json()
    assert [codes(r["reasons"]) for r in uploaded["results"]] == [
        ["NIK_KECAMATAN_UNKNOWN"],
        ["KECAMATAN_UNKNOWN"],
    ]

    sent = {**bad_name, "nik": door.nik()}
    await in_p3ke(door, sent)
    ref = f"{door.run}-kecamatan"
    reply = (await door.submit([(ref, "regency-12.17", sent)]))[ref]
    assert codes(reply.payload["reasons"]) == ["KECAMATAN_UNKNOWN"]


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("1985-02-31", "Februari 1985 hanya 28 hari"),
        ("1985-01-32", "Januari 1985 hanya 31 hari"),
        ("1985-13-01", "bulan 13 tidak ada (bulan 1 sampai 12)"),
    ],
)
async def test_a_date_that_is_not_a_date_gets_a_lindung_code_on_the_json_path(
    door: Door, programmes: dict[str, str], written: str, why: str
) -> None:
    answer = await door.post(samosir_worker(door, programmes["province"], birth_date=written))
    assert answer.status_code == 422
    assert answer.json()["detail"] == {
        "code": "BIRTH_DATE_NONEXISTENT",
        "message": f"Tanggal lahir '{written}' tidak ada di kalender: {why}.",
        "fields": ["birth_date"],
    }


async def test_other_unreadable_requests_keep_the_documented_shape(
    door: Door, programmes: dict[str, str]
) -> None:
    body = samosir_worker(door, programmes["province"])
    del body["sector"]
    answer = await door.post({**body, "birth_date": "kemarin"})
    assert answer.status_code == 422
    assert answer.json()["detail"] == {
        "code": "REQUEST_INVALID",
        "message": "Permintaan tidak dapat dibaca; periksa kolom: birth_date, sector.",
        "fields": ["birth_date", "sector"],
    }


async def test_a_date_that_is_not_a_date_on_the_upload_and_the_inbound_topic(
    door: Door, programmes: dict[str, str]
) -> None:
    province = programmes["province"]
    body = samosir_worker(door, province)
    uploaded = (
        await door.upload(province, "12.17", [[*row_of(body)[:2], "31-02-1985", *row_of(body)[3:]]])
    ).json()
    (result,) = uploaded["results"]
    assert result["status"] == "invalid" and codes(result["reasons"]) == ["BIRTH_DATE_NONEXISTENT"]
    assert result["reasons"][0]["message"] == (
        "Tanggal lahir '31-02-1985' tidak ada di kalender: Februari 1985 hanya 28 hari."
    )

    ref = f"{door.run}-date"
    reply = (await door.submit([(ref, "regency-12.17", {**body, "birth_date": "1985-02-31"})]))[ref]
    assert reply.event_type == "NominationRejected" and reply.payload["status"] == "invalid"
    assert [(r["code"], r["message"]) for r in reply.payload["reasons"]] == [
        (
            "BIRTH_DATE_NONEXISTENT",
            "Tanggal lahir '1985-02-31' tidak ada di kalender: Februari 1985 hanya 28 hari.",
        )
    ]


async def test_a_programme_running_past_31_december_is_refused_when_defined(door: Door) -> None:
    late = yaml_of(f"DOOR-LATE-{door.run}", {("12.17", "non_sawit"): 5}, coverage_start="2026-04-01")
    answer = await door.allocation.http.post(
        "/programmes", content=late.encode(), headers={"content-type": "application/yaml"}
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail["code"] == "PROGRAMME_INVALID"
    assert "past 31 December 2026" in detail["message"] and "months to at most 9" in detail["message"]


# --- item 8: the programme's own rules ------------------------------------------------------


async def test_dtks_alone_admits_only_where_the_programme_says_so(
    door: Door, programmes: dict[str, str]
) -> None:
    p3ke_only = samosir_worker(door, programmes["samosir"])
    lenient = samosir_worker(door, programmes["province"])
    await door.reference(dtks={p3ke_only["nik"], lenient["nik"]})

    answer = (await door.post(p3ke_only)).json()
    assert codes(answer["reasons"]) == ["DTKS_NOT_ACCEPTED"]
    assert answer["reasons"][0]["message"] == (
        "NIK tercatat di DTKS, tetapi program ini hanya menerima pekerja P3KE desil 1, 2 "
        "(NIK ini: tidak terdaftar di P3KE)."
    )
    answer = (await door.post(lenient)).json()
    assert answer["status"] == "validated"
    shown = (await door.registry.http.get(f"/nominations/{answer['nomination_id']}")).json()
    assert shown["poverty_source"] == "DTKS"


async def test_the_officers_desil_never_ranks_a_worker(door: Door, programmes: dict[str, str]) -> None:
    # One seat for Samosir non-sawit. The DTKS-only worker, nominated first with a stated desil 1,
    # ranks at the documented DTKS desil (10): the P3KE desil-2 worker nominated after takes the
    # seat before the decree.
    province = programmes["one_seat"]
    dtks_only = samosir_worker(door, province, decile=1)
    poorer = samosir_worker(door, province, decile=5)
    await door.reference(dtks={dtks_only["nik"]}, p3ke={poorer["nik"]: 2})
    assert (await door.post(dtks_only)).json()["status"] == "validated"
    assert (await door.post(poorer)).json()["status"] == "validated"

    async def decided() -> dict[str, dict[str, Any]] | None:
        rows = (await door.allocation.http.get(f"/programmes/{province}/assignments")).json()
        mine = {r["worker_id"]: r for r in rows}
        ids = {door.worker_id(dtks_only["nik"]): "dtks", door.worker_id(poorer["nik"]): "poorer"}
        found = {name: mine[w] for w, name in ids.items() if w in mine}
        done = len(found) == 2 and found["poorer"]["status"] == "assigned"
        return found if done and found["dtks"]["status"] == "waitlisted" else None

    rows = await eventually(decided, timeout_s=30)  # the DTKS worker waits
    assert rows["poorer"]["decile"] == 2  # from P3KE, not the officer's 5
    assert rows["poorer"]["rank_desil"] == 2
    assert rows["dtks"]["decile"] is None  # no P3KE desil; never the officer's 1
    assert rows["dtks"]["rank_desil"] == 10  # the documented DTKS rank desil


async def test_a_nik_issued_in_another_regency_is_a_note_unless_the_programme_requires_a_match(
    door: Door, programmes: dict[str, str]
) -> None:
    # Issued in Nias, living in Samosir: a NIK does not change when its holder moves.
    moved = samosir_worker(door, programmes["province"], door.nik("12.04"))
    strict = samosir_worker(door, programmes["strict"], door.nik("12.04"))
    await in_p3ke(door, moved, strict)
    note = (
        "Catatan: NIK diterbitkan di Kabupaten Nias, sedangkan pengusul adalah Kabupaten Samosir. "
        "NIK tidak berubah saat pindah domisili; pastikan pekerja berdomisili di Kabupaten Samosir."
    )

    answer = (await door.post(moved)).json()
    assert answer["status"] == "validated" and answer["reasons"] == []
    assert [(n["code"], n["message"]) for n in answer["notes"]] == [("NIK_ISSUED_ELSEWHERE", note)]
    shown = (await door.registry.http.get(f"/nominations/{answer['nomination_id']}")).json()
    assert codes(shown["notes"]) == ["NIK_ISSUED_ELSEWHERE"]

    answer = (await door.post(strict)).json()
    assert answer["status"] == "rejected" and codes(answer["reasons"]) == ["NIK_REGENCY_MISMATCH"]

    by_upload = samosir_worker(door, programmes["province"], door.nik("12.04"))
    by_topic = samosir_worker(door, programmes["province"], door.nik("12.04"))
    await in_p3ke(door, by_upload, by_topic)
    (row,) = (await door.upload(programmes["province"], "12.17", [row_of(by_upload)])).json()["results"]
    assert row["status"] == "validated" and codes(row["notes"]) == ["NIK_ISSUED_ELSEWHERE"]
    ref = f"{door.run}-moved"
    reply = (await door.submit([(ref, "regency-12.17", by_topic)]))[ref]
    assert reply.event_type == "NominationAccepted" and codes(reply.payload["notes"]) == [
        "NIK_ISSUED_ELSEWHERE"
    ]


async def test_occupations_are_matched_in_the_seeds_words(door: Door, programmes: dict[str, str]) -> None:
    written = ["pedagang", "buruh harian", "PKL", "Supir", "juru-parkir", "pegawai negeri"]
    bodies = [samosir_worker(door, programmes["strict"], occupation=w) for w in written]
    await in_p3ke(door, *bodies)
    answers = [(await door.post(b)).json() for b in bodies]
    assert [a["status"] for a in answers] == ["validated"] * 5 + ["rejected"]
    assert codes(answers[-1]["reasons"]) == ["OCCUPATION_NOT_ALLOWED"]


async def test_a_village_cap_needs_a_known_desa_and_publishes_its_code(
    door: Door, programmes: dict[str, str]
) -> None:
    villages = programmes["villages"]
    desa = desa_of_kecamatan(RANTAU_UTARA)[0]

    def labuhanbatu(**fields: Any) -> dict[str, Any]:
        return samosir_worker(
            door, villages, door.nik("12.10"), regency_code="12.10", kecamatan="Rantau Utara",
            sector="sawit", occupation="pekerja sawit", **fields,
        )  # fmt: skip

    unknown, known = labuhanbatu(desa="Desa Uji"), labuhanbatu(desa=desa.name.lower())
    await in_p3ke(door, unknown, known)
    answer = (await door.post(unknown)).json()
    assert codes(answer["reasons"]) == ["DESA_UNKNOWN"]
    assert answer["reasons"][0]["message"] == (
        "Desa/kelurahan 'Desa Uji' tidak ditemukan di Kecamatan Rantau Utara; program ini membatasi "
        "kuota per desa, jadi nama desa harus sesuai daftar Kemendagri."
    )
    answer = (await door.post(known)).json()
    assert answer["status"] == "validated"
    worker = door.worker_id(known["nik"])
    (record,) = await read_matching(
        door.bootstrap,
        topics.REGISTRY,
        lambda r: r.key == worker.encode() and Envelope.from_bytes(r.value).event_type == "WorkerValidated",
        1,
    )
    assert Envelope.from_bytes(record.value).payload["desa_code"] == desa.code


# --- the kind of decree (item 9: Pakpak Bharat's Perkada) -----------------------------------


async def test_a_perkada_programme_is_fixed_by_a_perkada(door: Door, programmes: dict[str, str]) -> None:
    code = programmes["perkada"]
    kecamatan = kecamatan_of_regency("12.15")[0]
    worker = samosir_worker(
        door, code, door.nik("12.15"), regency_code="12.15", kecamatan=kecamatan.name,
        desa=desa_of_kecamatan(kecamatan.code)[0].name, sector="sawit", occupation="pekerja sawit",
    )  # fmt: skip
    await in_p3ke(door, worker)
    assert (await door.post(worker)).json()["status"] == "validated"
    worker_id = door.worker_id(worker["nik"])

    async def seated() -> bool:
        rows = (await door.allocation.http.get(f"/programmes/{code}/assignments")).json()
        return any(r["worker_id"] == worker_id and r["status"] == "assigned" for r in rows)

    await eventually(seated, timeout_s=30)
    decree = {"number": "12 TAHUN 2026", "date": "2026-03-02", "signer": "Bupati Pakpak Bharat"}
    wrong = await door.allocation.http.post(
        f"/programmes/{code}/decrees", json={**decree, "kind": "SK_BUPATI"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == {
        "code": "DECREE_KIND_MISMATCH",
        "message": f"Program {code} ditetapkan dengan Peraturan Kepala Daerah (Perkada), "
        "bukan SK Bupati/Wali Kota.",
    }
    issued = await door.allocation.http.post(
        f"/programmes/{code}/decrees", json={**decree, "kind": "PERKADA"}
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["kind"] == "PERKADA" and issued.json()["worker_count"] == 1
    listed = (await door.allocation.http.get(f"/programmes/{code}/decrees")).json()
    assert [d["kind"] for d in listed] == ["PERKADA"]
    annex = await door.allocation.http.get(f"/programmes/{code}/decrees/latest/annex.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(annex.content)).pages)
    assert "LAMPIRAN PERATURAN BUPATI PAKPAK BHARAT" in text
    (record,) = await read_matching(
        door.bootstrap,
        topics.ALLOCATION,
        lambda r: (
            Envelope.from_bytes(r.value).event_type == "DecreeIssued"
            and Envelope.from_bytes(r.value).payload["programme_code"] == code
        ),
        1,
    )
    assert Envelope.from_bytes(record.value).payload["kind"] == "PERKADA"
