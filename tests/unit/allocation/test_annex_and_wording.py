"""Officer-facing wording, budget flags and the annex renderings (without a database)."""

import csv
import io
from datetime import date

import pytest
from pypdf import PdfReader

from services.allocation.adapters.annex import Annex, AnnexLine, annex_csv
from services.allocation.adapters.annex_pdf import annex_pdf
from services.allocation.application.views import budget_view
from services.allocation.domain.wording import number, rupiah, tanggal

COST = 201_600


def test_rupiah_dates_and_counts_are_written_the_indonesian_way() -> None:
    assert rupiah(16_000_000) == "Rp16.000.000" and rupiah(0) == "Rp0" and rupiah(-5_000) == "-Rp5.000"
    assert number(9_920) == "9.920"
    assert tanggal(date(2026, 4, 2)) == "2 April 2026"
    with pytest.raises(TypeError):
        rupiah(1.5)  # type: ignore[arg-type]


def test_budget_view_flags_a_shortfall_and_an_overcommitment() -> None:
    sumut_2024 = budget_view(2_000_000_000, COST, 10_000, 0, 12)
    cut = budget_view(2 * COST, COST, 5, 3, 12)

    assert [f["code"] for f in sumut_2024["flags"]] == ["BUDGET_SHORTFALL"]
    assert "kurang Rp16.000.000" in sumut_2024["flags"][0]["message"]
    assert (sumut_2024["affordable_workers"], sumut_2024["premium_per_month"]) == (9_920, 16_800)
    assert [f["code"] for f in cut["flags"]] == ["BUDGET_SHORTFALL", "BUDGET_OVERCOMMITTED"]
    assert cut["overcommitted"] == COST and cut["headroom"] == 0


def annex(version: int = 2) -> Annex:
    lines = [
        AnnexLine("w3", "12.71", "sawit", "Budi & <Siregar>", "1271**********03"),
        AnnexLine("w1", "12.04", "non_sawit", "Ani Zebua", "1204**********01"),
        AnnexLine("w2", "12.71", "sawit", "Citra Lubis", "1271**********02"),
    ]
    return Annex(
        programme_code="SUMUT-2026",
        programme_name="Bantuan iuran & uji",
        jurisdiction="12",
        decree_number="188.44/9/KPTS/2026",
        decree_date=date(2026, 4, 2),
        signer="Gubernur Sumatera Utara",
        version=version,
        supersedes="188.44/1/KPTS/2026" if version > 1 else None,
        list_sha256="0" * 64,
        premium_per_month=16_800,
        months=12,
        budget_cap=1_000_000,
        lines=lines,
        added=frozenset({"w2"}) if version > 1 else frozenset(),
        removed=[AnnexLine("w9", "12.71", "sawit", "Dedi", "1271**********09", "died")]
        if version > 1
        else [],
    )


def test_csv_annex_lists_workers_then_subtotals_totals_and_budget() -> None:
    rows = list(csv.DictReader(io.StringIO(annex_csv(annex()))))

    # Per regency (Kemendagri order), sector, then name.
    assert [r["worker_id"] for r in rows if r["baris"] == "pekerja"] == ["w1", "w3", "w2"]
    assert {(r["kode_kab_kota"], r["jumlah_pekerja"]) for r in rows if r["baris"] == "jumlah_kab_kota"} == {
        ("12.04", "1"),
        ("12.71", "2"),
    }
    total = next(r for r in rows if r["baris"] == "jumlah")
    assert (total["jumlah_pekerja"], total["biaya_rp"]) == ("3", str(3 * COST))
    assert next(r for r in rows if r["baris"] == "sisa_pagu")["biaya_rp"] == str(1_000_000 - 3 * COST)


def test_pdf_annex_prints_lists_totals_budget_and_changes() -> None:
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(annex_pdf(annex()))).pages)

    assert "LAMPIRAN KEPUTUSAN GUBERNUR SUMATERA UTARA" in text and "TANGGAL: 2 APRIL 2026" in text
    assert "Budi & <Siregar>" in text and "Bantuan iuran & uji" in text  # markup characters escaped
    assert "Jumlah Kota Medan Sektor Sawit: 2 pekerja, Rp403.200" in text
    assert "Jumlah pekerja: 3" in text and "Jumlah biaya: Rp604.800" in text
    assert "Pagu anggaran: Rp1.000.000" in text and "Sisa pagu: Rp395.200" in text
    assert "Ditambahkan: 1 pekerja" in text and "Dikeluarkan: 1 pekerja" in text and "meninggal dunia" in text


def test_a_regency_decree_is_signed_by_the_regent() -> None:
    samosir = Annex(**{**annex(1).__dict__, "jurisdiction": "12.17"})
    medan = Annex(**{**annex(1).__dict__, "jurisdiction": "12.71"})

    assert samosir.authority == "BUPATI SAMOSIR" and medan.authority == "WALI KOTA MEDAN"
