"""The monitoring-and-evaluation report: the same tables in the PDF and the workbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from services.dashboard.adapters.pdf_report import render_pdf
from services.dashboard.adapters.xlsx_report import render_xlsx
from services.dashboard.domain.figures import COUNTERS
from services.dashboard.domain.report import sections

COST = 201_600


def regency(code: str, name: str, **counts: int) -> dict[str, Any]:
    row: dict[str, Any] = {"code": code, "name": name, **dict.fromkeys(COUNTERS, 0), **counts}
    row |= {"allotment": row["seats"] * COST, "committed": row["assigned"] * COST}
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
        "scope": {"regency": None, "name": "Provinsi Sumatera Utara"},
        "totals": totals
        | {
            "committed": 5 * COST,
            "paid": 84_000,
            "claims": 2,
            "claims_amount": 47_000_000,
            "claims_flagged": 1,
        },
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
        },
        "premiums": [
            {"month": "2025-01", "label": "Jan 2025", "workers": 3, "total": 50_400},
            {"month": "2025-02", "label": "Feb 2025", "workers": 2, "total": 33_600},
        ],
        "decrees": [],
        "regencies": [samosir, medan],
    }


def test_sections_add_up() -> None:
    by_key = {s.key: s for s in sections(sample())}
    regencies = by_key["Kabupaten-Kota"]
    titles = [c.title for c in regencies.columns]
    assert regencies.total is not None
    assert regencies.total[titles.index("Diusulkan")] == 9
    assert regencies.total[titles.index("Anggaran terikat")] == 5 * COST
    summary = by_key["Ringkasan"]
    assert summary.rows[0] == ["Diusulkan", 9, 1.0]
    assert ["Kuota terisi", 5, 5 / 6] in summary.rows
    assert "terikat Rp1.008.000 (40,3%)" in summary.note
    assert by_key["Klaim"].total == ["Jumlah", 1, 5_000_000, 0, 1, 42_000_000, 1]
    assert by_key["SK"].rows == []  # no decree yet: the section says so, it is not dropped


def test_pdf_report() -> None:
    pdf = render_pdf(sample(), now=datetime(2025, 6, 1, 3, 0, tzinfo=UTC))
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Laporan Monitoring dan Evaluasi",
        "Program uji (UJI-2025)",
        "Wilayah: Provinsi Sumatera Utara",
        "Kabupaten Samosir",
        "Rp1.008.000",
        "Rp42.000.000",
        "Tidak ada di P3KE maupun DTKS",
        "01-06-2025 10:00 WIB",  # made in Western Indonesia time
        "Halaman 1",
    ):
        assert expected in text, expected
    assert reader.metadata is not None and reader.metadata.title == "Laporan Monev UJI-2025"


def test_xlsx_report_holds_numbers_not_text() -> None:
    book = load_workbook(io.BytesIO(render_xlsx(sample())))
    assert book.sheetnames[:3] == ["Program", "Ringkasan", "Kabupaten-Kota"]
    sheet = book["Kabupaten-Kota"]
    header = [c.value for c in sheet[2]]
    samosir = {h: c for h, c in zip(header, sheet[3], strict=True)}
    assert samosir["Kode"].value == "12.17" and samosir["Diusulkan"].value == 5
    assert samosir["Anggaran terikat"].value == 3 * COST
    assert samosir["Anggaran terikat"].number_format == '"Rp"#,##0'
    assert sheet._charts, "the regency sheet carries its bar chart"
    shares = book["Ringkasan"]
    assert shares.cell(3, 3).number_format == "0.0%" and shares.cell(3, 3).value == 1.0
    assert book["Program"]["B12"].value == "Rp2.500.000"
