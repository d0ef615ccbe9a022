"""The monitoring-and-evaluation report as tables, independent of the file format.

The PDF and the XLSX renderers both draw these sections, so the two files always carry the same
figures (and the same figures as the dashboard: all come from one summary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from services.dashboard.domain import labels as lb

Kind = Literal["text", "int", "rp", "pct"]
Value = str | int | float | None


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = "int"


@dataclass
class Section:
    """One table of the report."""

    key: str  # sheet name in the workbook
    title: str
    columns: list[Column]
    rows: list[list[Value]] = field(default_factory=list)
    total: list[Value] | None = None
    note: str = ""


def share(part: int, whole: int) -> float | None:
    """part / whole as a fraction (None when whole is 0)."""
    return part / whole if whole > 0 else None


def title_lines(data: dict[str, Any]) -> list[str]:
    """The report's heading: what, which programme, which area."""
    p = data["programme"]
    return [
        "Laporan Monitoring dan Evaluasi",
        f"{p['name']} ({p['code']})",
        f"Wilayah: {data['scope']['name']}",
    ]


def programme_facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The programme's settings, as label/value pairs."""
    p, b = data["programme"], data["budget"]
    return [
        ("Kode program", p["code"]),
        ("Tahun", str(p["year"])),
        ("Sumber dana", p["funder_label"]),
        ("Masa perlindungan", f"{p['coverage_start']} s.d. {p['coverage_end']}"),
        ("Iuran per pekerja per bulan", lb.rupiah(p["premium_per_month"])),
        ("Biaya per pekerja", f"{lb.rupiah(p['cost_per_worker'])} ({p['months']} bulan)"),
        ("Pagu anggaran" if data["scope"]["regency"] is None else "Alokasi kuota", lb.rupiah(b["cap"])),
        ("Wajib SK sebelum pendaftaran", "Ya" if p["requires_decree"] else "Tidak"),
    ]


def summary_section(data: dict[str, Any]) -> Section:
    t, b = data["totals"], data["budget"]
    s = Section(
        "Ringkasan", "Ringkasan", [Column("Indikator", "text"), Column("Nilai", "int"), Column("%", "pct")]
    )
    for stage in data["funnel"]:
        s.rows.append([stage["label"], stage["count"], share(stage["count"], t["nominated"])])
    s.rows += [
        ["Ditolak", t["rejected"], share(t["rejected"], t["nominated"])],
        ["Daftar tunggu", t["waitlisted"], None],
        ["Gagal daftar BPJS", t["failed"], None],
        ["Kuota", t["seats"], None],
        ["Kuota terisi", t["assigned"], share(t["assigned"], t["seats"])],
        ["Klaim dibayar BPJS", t["claims"], None],
        ["Klaim ditandai", t["claims_flagged"], share(t["claims_flagged"], t["claims"])],
    ]
    s.note = (
        f"Anggaran: pagu {lb.rupiah(b['cap'])}; terikat {lb.rupiah(b['committed'])} "
        f"({lb.percent(b['committed'], b['cap'])}); iuran dibayar {lb.rupiah(b['paid'])} "
        f"({lb.percent(b['paid'], b['cap'])}); klaim {lb.rupiah(t['claims_amount'])}."
    )
    return s


REGENCY_COLUMNS = [
    ("code", Column("Kode", "text")),
    ("name", Column("Kabupaten/Kota", "text")),
    ("seats", Column("Kuota")),
    ("nominated", Column("Diusulkan")),
    ("validated", Column("Lolos")),
    ("rejected", Column("Ditolak")),
    ("assigned", Column("Dapat kuota")),
    ("waitlisted", Column("Tunggu")),
    ("decreed", Column("SK")),
    ("enrolled", Column("Terdaftar")),
    ("failed", Column("Gagal")),
    ("committed", Column("Anggaran terikat", "rp")),
    ("paid", Column("Iuran dibayar", "rp")),
    ("claims", Column("Klaim")),
    ("claims_amount", Column("Nilai klaim", "rp")),
]


def regency_section(data: dict[str, Any]) -> Section:
    s = Section("Kabupaten-Kota", "Per kabupaten/kota", [c for _, c in REGENCY_COLUMNS])
    for row in data["regencies"]:
        s.rows.append([row[k] for k, _ in REGENCY_COLUMNS])
    if len(data["regencies"]) > 1:
        s.total = ["", "Jumlah"] + [sum(r[k] for r in data["regencies"]) for k, _ in REGENCY_COLUMNS[2:]]
    return s


def sector_section(data: dict[str, Any]) -> Section:
    cols = [Column("Kode", "text"), Column("Kabupaten/Kota", "text"), Column("Sektor", "text")]
    cols += [Column(lb.COUNTER_LABELS[k]) for k in ("seats", "assigned", "waitlisted", "enrolled")]
    cols.append(Column("Kuota terisi", "pct"))
    s = Section("Kuota per sektor", "Kuota per kabupaten/kota dan sektor", cols)
    for c in data["cells"]:
        if c["seats"] == 0 and c["assigned"] == 0 and c["waitlisted"] == 0:
            continue
        s.rows.append(
            [
                c["regency"],
                lb.regency_name(c["regency"]),
                lb.label(lb.SECTOR_LABELS, c["sector"]),
                c["seats"],
                c["assigned"],
                c["waitlisted"],
                c["enrolled"],
                share(c["assigned"], c["seats"]),
            ]
        )
    return s


def ranked_section(key: str, title: str, items: list[dict[str, Any]], of: int) -> Section:
    s = Section(
        key, title, [Column("Kode", "text"), Column("Uraian", "text"), Column("Jumlah"), Column("%", "pct")]
    )
    for item in items:
        s.rows.append([item["code"], item["label"], item["count"], share(item["count"], of)])
    return s


def claims_section(data: dict[str, Any]) -> Section:
    cols = [Column("Bulan", "text")]
    for kind in ("JKK", "JKM"):
        cols += [Column(f"{kind} klaim"), Column(f"{kind} nilai", "rp"), Column(f"{kind} ditandai")]
    s = Section("Klaim", "Klaim dibayar BPJS per bulan", cols)
    for m in data["claims"]["by_month"]:
        s.rows.append(
            [m["label"]] + [m[k][f] for k in ("JKK", "JKM") for f in ("claims", "amount", "flagged")]
        )
    totals = data["claims"]["totals"]
    s.total = ["Jumlah"] + [totals[k][f] for k in ("JKK", "JKM") for f in ("claims", "amount", "flagged")]
    return s


def premiums_section(data: dict[str, Any]) -> Section:
    s = Section(
        "Iuran",
        "Iuran dibayar per bulan",
        [Column("Bulan", "text"), Column("Pekerja"), Column("Iuran", "rp")],
    )
    for m in data["premiums"]:
        s.rows.append([m["label"], m["workers"], m["total"]])
    s.total = ["Jumlah", None, sum(m["total"] for m in data["premiums"])]
    return s


def decrees_section(data: dict[str, Any]) -> Section:
    cols = [
        Column("Versi"),
        Column("Nomor SK", "text"),
        Column("Tanggal", "text"),
        Column("Penandatangan", "text"),
        Column("Pekerja"),
        Column("Nilai", "rp"),
    ]
    s = Section("SK", "Surat keputusan (SK)", cols)
    for d in data["decrees"]:
        s.rows.append([d["version"], d["number"], d["date"], d["signer"], d["worker_count"], d["total_cost"]])
    return s


def sections(data: dict[str, Any]) -> list[Section]:
    """Every table of the report, in reading order."""
    t = data["totals"]
    return [
        summary_section(data),
        regency_section(data),
        sector_section(data),
        ranked_section("Alasan penolakan", "Alasan penolakan usulan", data["rejections"], t["rejected"]),
        ranked_section("Gagal daftar", "Pendaftaran BPJS yang gagal", data["failures"], t["failed"]),
        claims_section(data),
        ranked_section(
            "Klaim ditandai", "Klaim yang ditandai untuk diperiksa", data["claims"]["flags"], t["claims"]
        ),
        premiums_section(data),
        decrees_section(data),
    ]
