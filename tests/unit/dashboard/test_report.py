"""The monitoring-and-evaluation report: the same tables in the PDF and the workbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from services.dashboard.adapters.geo_data import load_atlas
from services.dashboard.adapters.pdf_report import (
    cell_text,
    funnel_chart,
    nice_ceiling,
    render_pdf,
    section_table,
)
from services.dashboard.adapters.xlsx_report import render_xlsx
from services.dashboard.domain.figures import COUNTERS, Counters, identities
from services.dashboard.domain.report import sections

COST = 201_600


def regency(code: str, name: str, **counts: int) -> dict[str, Any]:
    row: dict[str, Any] = {"code": code, "name": name, **dict.fromkeys(COUNTERS, 0), **counts}
    row |= {"allotment": row["seats"] * COST, "committed": row["assigned"] * COST}
    row["decided"] = sum(row[k] for k in ("assigned", "waitlisted", "declined", "released"))
    row["requested"] = sum(row[k] for k in ("enrolled", "failed", "registering"))
    row.setdefault("paid", 0)
    row.setdefault("claims", 0)
    row.setdefault("claims_amount", 0)
    return row


def sample() -> dict[str, Any]:
    samosir = regency(
        "12.17", "Kabupaten Samosir", seats=4, nominated=5, validated=4, rejected=1, assigned=3, decreed=2,
        enrolled=2, failed=1, paid=67_200, claims=1, claims_amount=5_000_000,
    )  # fmt: skip
    medan = regency(
        "12.71", "Kota Medan", seats=2, nominated=4, validated=3, rejected=1, assigned=2, decreed=1,
        enrolled=1, paid=16_800, claims=1, claims_amount=42_000_000,
    )  # fmt: skip
    totals = {k: samosir[k] + medan[k] for k in COUNTERS}
    empty = {"claims": 0, "amount": 0, "flagged": 0}
    return {
        "programme": {
            "code": "UJI-2025",
            "name": "Program uji",
            "year": 2025,
            "funder": "APBD_PROVINSI",
            "funder_label": "APBD Provinsi",
            "jurisdiction": "12",
            "months": 12,
            "premium_per_month": 16_800,
            "cost_per_worker": COST,
            "budget_cap": 2_500_000,
            "requires_decree": True,
            "coverage_start": "2025-01-01",
            "coverage_end": "2025-12-31",
        },
        "scope": {
            "kind": "province",
            "regency_code": None,
            "per_village_cap": None,
            "whole_programme": True,
            "regency": None,
            "name": "Provinsi Sumatera Utara",
        },
        "totals": totals
        | {
            "committed": 5 * COST,
            "billed": 100_800,
            "paid": 84_000,
            "claims": 2,
            "claims_amount": 47_000_000,
            "claims_flagged": 1,
            "decrees": 0,
            "decree_changes": 0,
        },
        "identities": identities(Counters(**totals)),
        "budget": {
            "cap": 2_500_000,
            "cost_per_worker": COST,
            "allotment": 6 * COST,
            "committed": 5 * COST,
            "paid": 84_000,
            "remaining": 2_500_000 - 5 * COST,
        },
        "funnel": [
            {"stage": s, "label": label, "count": totals[s]}
            for s, label in (
                ("nominated", "Diusulkan"),
                ("validated", "Lolos verifikasi"),
                ("assigned", "Mendapat kuota"),
                ("decreed", "Ditetapkan SK"),
                ("enrolled", "Terdaftar BPJS"),
            )
        ],
        "sectors": [],
        "cells": [
            {"regency": "12.17", "sector": "non_sawit", **{k: samosir[k] for k in COUNTERS}},
            {"regency": "12.71", "sector": "sawit", **{k: medan[k] for k in COUNTERS}},
        ],
        "rejections": [
            {"code": "NOT_IN_P3KE_OR_DTKS", "label": "Tidak ada di P3KE maupun DTKS", "count": 2},
        ],
        "failures": [{"code": "NIK_NOT_FOUND", "label": "NIK tidak ditemukan BPJS", "count": 1}],
        "releases": [{"code": "withdrawn", "label": "Dibatalkan pengusul", "count": 1}],
        "waitlist_reasons": [],
        "billing": [
            {
                "month": "2025-01",
                "label": "Jan 2025",
                "funder": "APBD_PROVINSI",
                "funder_label": "APBD Provinsi",
                "billed_workers": 6,
                "billed": 100_800,
                "paid_workers": 5,
                "paid": 84_000,
                "unpaid": 16_800,
            }
        ],
        "claims": {
            "by_month": [
                {
                    "month": "2025-02",
                    "label": "Feb 2025",
                    "JKK": {"claims": 1, "amount": 5_000_000, "flagged": 0},
                    "JKM": empty,
                },
                {
                    "month": "2025-03",
                    "label": "Mar 2025",
                    "JKK": empty,
                    "JKM": {"claims": 1, "amount": 42_000_000, "flagged": 1},
                },
            ],
            "totals": {
                "JKK": {"claims": 1, "amount": 5_000_000, "flagged": 0},
                "JKM": {"claims": 1, "amount": 42_000_000, "flagged": 1},
            },
            "flags": [{"code": "INCIDENT_OUTSIDE_COVERAGE", "label": "Kejadian di luar masa", "count": 1}],
            "kinds": [
                {
                    "type": "JKK",
                    "kind": "MEDICAL",
                    "label": "JKK: x",
                    "claims": 1,
                    "amount": 5_000_000,
                    "flagged": 0,
                },
                {
                    "type": "JKM",
                    "kind": "DEATH",
                    "label": "JKM: x",
                    "claims": 1,
                    "amount": 42_000_000,
                    "flagged": 1,
                },
            ],
        },
        "premiums": [
            {"month": "2025-01", "label": "Jan 2025", "workers": 3, "total": 50_400},
            {"month": "2025-02", "label": "Feb 2025", "workers": 2, "total": 33_600},
        ],
        "decrees": [],
        "villages": [],
        "regencies": [samosir, medan],
        "as_of": "2025-06-01T02:59:00+00:00",
        "last_event_at": "2025-06-01T02:58:00+00:00",
    }


def test_sections_add_up() -> None:
    by_key = {s.key: s for s in sections(sample())}
    regencies = by_key["Kabupaten-Kota"]
    titles = [c.title for c in regencies.columns]
    assert regencies.total is not None
    assert regencies.total[titles.index("Diusulkan")] == 9
    money = by_key["Anggaran per wilayah"]
    assert money.total is not None
    assert money.total[[c.title for c in money.columns].index("Anggaran terikat")] == 5 * COST
    summary = by_key["Ringkasan"]
    assert summary.rows[0] == ["Diusulkan", 9, None]
    assert ["  Lolos verifikasi", 7, 0.778] in summary.rows
    assert ["Kuota terisi", 5, 0.833] in summary.rows
    assert by_key["Anggaran"].rows[1] == [
        "Anggaran terikat (pemegang kuota × biaya per pekerja)",
        5 * COST,
        0.403,
    ]
    assert by_key["Klaim"].total == ["Jumlah", 1, 5_000_000, 0, 1, 42_000_000, 1]
    assert by_key["SK"].rows == []  # no decree yet: the section says so, it is not dropped
    assert [r[3] for r in by_key["Kesesuaian"].rows] == ["Ya", "Ya", "Ya"]
    assert by_key["Iuran"].total == ["Jumlah", "", 6, 100_800, 5, 84_000, 16_800]
    assert len(by_key["Definisi"].rows) >= 20


def test_a_shortfall_is_never_shown_as_100_percent() -> None:
    data = sample()
    data["totals"] |= {"assigned": 20_871, "seats": 20_877}
    summary = {r[0]: r for r in sections(data)[0].rows}
    assert summary["Kuota terisi"][2] == 0.999
    assert cell_text("pct", summary["Kuota terisi"][2]) == "99,9%"
    book = load_workbook(io.BytesIO(render_xlsx(data, now=datetime(2025, 6, 1, 3, 0, tzinfo=UTC))))
    sheet = book["Ringkasan"]
    filled = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == "Kuota terisi")
    assert filled[2].value == 0.999 and filled[2].number_format == "0.0%"  # Excel shows 99.9%
    lines = pdf_text_of(data).splitlines()
    at = next(i for i, line in enumerate(lines) if lines[i : i + 2] == ["Kuota terisi", "20.871"])
    assert lines[at + 2] == "99,9%"


def pdf_text_of(data: dict[str, Any]) -> str:
    reader = PdfReader(
        io.BytesIO(render_pdf(data, atlas=load_atlas(), now=datetime(2025, 6, 1, 3, 0, tzinfo=UTC)))
    )
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_report() -> None:
    pdf = render_pdf(sample(), atlas=load_atlas(), now=datetime(2025, 6, 1, 3, 0, tzinfo=UTC))
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Laporan Monitoring dan Evaluasi",
        "Program uji (UJI-2025)",
        "Wilayah: Provinsi Sumatera Utara",
        "Data per 01-06-2025 09:59 WIB",  # when the figures were taken
        "Kabupaten Samosir",
        "Rp1.008.000",
        "Rp42.000.000",
        "Tidak ada di P3KE maupun DTKS",
        "Dibatalkan pengusul",  # releases by reason
        "Kesesuaian angka",
        "Definisi angka",
        "Kuota terisi per kabupaten/kota",  # the map's title
        "01-06-2025 10:00 WIB",  # made in Western Indonesia time
        "Halaman 1",
    ):
        assert expected in text, expected
    assert reader.metadata is not None and reader.metadata.title == "Laporan Monev UJI-2025"


def test_pdf_never_splits_a_word_or_a_rupiah_across_lines() -> None:
    data = sample()
    # Large sums, long headers: what split "Anggaran terikat" and a rupiah total before.
    for row in data["regencies"]:
        row |= {"committed": 9_876_543_210_000, "paid": 1_234_567_890_000, "claims_amount": 987_654_321_000}
    text = pdf_text_of(data)
    lines = set(text.splitlines())
    words = {w for line in lines for w in line.split()}
    for s in sections(data):
        if not s.rows:
            continue  # "Tidak ada data."
        for c in s.columns:
            for word in c.title.split():
                assert word in words, f"{s.title}: header word {word!r} split"
    for amount in ("Rp9.876.543.210.000", "Rp19.753.086.420.000", "Rp2.469.135.780.000"):
        assert amount in words, amount


def test_a_programme_without_decrees_says_so() -> None:
    data = sample()
    data["programme"]["requires_decree"] = False
    text = pdf_text_of(data)
    assert "tidak wajib SK" in text
    summary = {r[0]: r for r in sections(data)[0].rows}
    assert any(k.startswith("Ditetapkan SK (tidak wajib SK") for k in summary)


def test_xlsx_report_holds_numbers_not_text() -> None:
    book = load_workbook(io.BytesIO(render_xlsx(sample(), now=datetime(2025, 6, 1, 3, 0, tzinfo=UTC))))
    assert book.sheetnames[:4] == ["Program", "Ringkasan", "Kesesuaian", "Anggaran"]
    assert "Definisi" in book.sheetnames and "Kuota dilepas" in book.sheetnames
    sheet = book["Kabupaten-Kota"]
    header = [c.value for c in sheet[2]]
    samosir = {h: c for h, c in zip(header, sheet[3], strict=True)}
    assert samosir["Kode"].value == "12.17" and samosir["Diusulkan"].value == 5
    assert sheet._charts, "the regency sheet carries its bar chart"
    money = book["Anggaran per wilayah"]
    header = [c.value for c in money[2]]
    samosir = {h: c for h, c in zip(header, money[3], strict=True)}
    assert samosir["Anggaran terikat"].value == 3 * COST
    assert samosir["Anggaran terikat"].number_format == '"Rp"#,##0'
    cover = {row[0].value: row[1] for row in book["Program"].iter_rows(min_row=6) if row[0].value}
    assert cover["Tahun"].value == 2025 and cover["Tahun"].number_format == "0"
    assert cover["Pagu anggaran"].value == 2_500_000
    assert cover["Pagu anggaran"].number_format == '"Rp"#,##0'
    assert cover["Iuran per pekerja per bulan"].value == 16_800
    assert "Data per 01-06-2025 09:59 WIB" in str(book["Program"]["A4"].value)


def test_columns_hold_every_header_word_and_every_number_whole() -> None:
    data = sample()
    for row in data["regencies"]:
        row |= {"committed": 9_876_543_210_000, "paid": 1_234_567_890_000}
    usable = 273 * mm
    for s in sections(data):
        table = section_table(s, usable)
        widths = table._colWidths
        assert sum(widths) <= usable + 0.01, s.title
        size = table._cellStyles[1][0].fontsize if len(table._cellStyles) > 1 else 7.5
        for i, c in enumerate(s.columns):
            for word in c.title.split():
                assert stringWidth(word, "Helvetica-Bold", size) <= widths[i], (s.title, word)
            if c.kind != "text":
                for row in s.rows + ([s.total] if s.total else []):
                    shown = cell_text(c.kind, row[i])
                    assert stringWidth(shown, "Helvetica-Bold", size) <= widths[i], (s.title, shown)


def test_chart_axes_end_above_their_longest_bar() -> None:
    for value in (1, 7, 9_999, 20_877, 24_671, 150_000_000):
        top = nice_ceiling(value)
        assert value <= top < 2.5 * value
    drawing = funnel_chart(sample(), 380)
    chart = drawing.contents[0]
    assert chart.valueAxis.valueMax >= max(chart.data[0]) * 1.2
