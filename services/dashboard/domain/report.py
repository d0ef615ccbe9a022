"""The monitoring-and-evaluation report as tables, independent of the file format.

The PDF and the XLSX renderers both draw these sections, so the two files always carry the same
figures (and the same figures as the dashboard: all come from one summary). Every stage the
dashboard counts has a row here; every reason is listed (none dropped); the definitions of the
figures travel with them (section "Definisi").
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from services.dashboard.domain import labels as lb
from services.dashboard.domain.report_areas import (
    ranked_section,
    regency_money_section,
    regency_section,
    sector_section,
    villages_section,
)
from services.dashboard.domain.report_cells import Kind, Section, Value
from services.dashboard.domain.report_figures import (
    budget_section,
    definitions_section,
    identities_section,
    summary_section,
)
from services.dashboard.domain.report_money import (
    billing_section,
    claim_kinds_section,
    claims_section,
    decrees_section,
)

__all__ = [
    "Kind",
    "Section",
    "Value",
    "programme_facts",
    "sections",
    "stamp",
    "title_lines",
]

WIB = timezone(timedelta(hours=7), "WIB")


def stamp(moment: datetime) -> str:
    """A time as the reports print it: "01-06-2025 10:00 WIB"."""
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def taken_at(data: dict[str, Any]) -> str:
    """When the figures were taken: the time of the summary (and of the last event it counts)."""
    taken = stamp(datetime.fromisoformat(data["as_of"])) if data.get("as_of") else "–"
    last = data.get("last_event_at")
    return f"{taken} (peristiwa terakhir {stamp(datetime.fromisoformat(last))})" if last else taken


def title_lines(data: dict[str, Any]) -> list[str]:
    """The report's heading: what, which programme, which area, and when the figures were taken."""
    p = data["programme"]
    return [
        "Laporan Monitoring dan Evaluasi",
        f"{p['name']} ({p['code']})",
        f"Wilayah: {data['scope']['name']}",
        f"Data per {taken_at(data)}",
    ]


def programme_facts(data: dict[str, Any]) -> list[tuple[str, Value, Kind]]:
    """The programme's settings: label, value and how to show the value."""
    p, b, scope = data["programme"], data["budget"], data["scope"]
    facts: list[tuple[str, Value, Kind]] = [
        ("Kode program", p["code"], "text"),
        ("Tahun", p["year"], "year"),
        ("Sumber dana", p["funder_label"], "text"),
        (
            "Cakupan",
            lb.regency_name(scope["regency_code"]) if scope.get("regency_code") else lb.PROVINCE_NAME,
            "text",
        ),
        ("Masa perlindungan", f"{p['coverage_start']} s.d. {p['coverage_end']}", "text"),
        ("Bulan perlindungan", p["months"], "int"),
        ("Iuran per pekerja per bulan", p["premium_per_month"], "rp"),
        ("Biaya per pekerja", p["cost_per_worker"], "rp"),
        ("Pagu anggaran" if scope.get("whole_programme", True) else "Alokasi kuota", b["cap"], "rp"),
        ("Wajib SK sebelum pendaftaran", "Ya" if p["requires_decree"] else "Tidak", "text"),
    ]
    if p.get("village_cap"):
        facts.append(("Batas pekerja per desa/kelurahan", p["village_cap"], "int"))
    return facts


def sections(data: dict[str, Any]) -> list[Section]:
    """Every table of the report, in reading order."""
    t = data["totals"]
    out = [
        summary_section(data),
        identities_section(data),
        budget_section(data),
        regency_section(data),
        regency_money_section(data),
        sector_section(data),
    ]
    if data["programme"].get("village_cap"):
        out.append(villages_section(data))
    out += [
        ranked_section(
            "Alasan penolakan", "Alasan penolakan usulan (semua alasan)", data["rejections"], t["rejected"]
        ),
        ranked_section("Kuota dilepas", "Kuota dilepas per alasan", data.get("releases", []), t["released"]),
        ranked_section(
            "Daftar tunggu", "Daftar tunggu per alasan", data.get("waitlist_reasons", []), t["waitlisted"]
        ),
        ranked_section("Gagal daftar", "Pendaftaran BPJS yang gagal", data["failures"], t["failed"]),
        billing_section(data),
        claims_section(data),
        claim_kinds_section(data),
        ranked_section(
            "Klaim ditandai", "Klaim yang ditandai untuk diperiksa", data["claims"]["flags"], t["claims"]
        ),
        decrees_section(data),
        definitions_section(),
    ]
    return out
