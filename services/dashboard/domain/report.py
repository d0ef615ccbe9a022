"""The monitoring-and-evaluation report as tables, independent of the file format.

The PDF and the XLSX renderers both draw these sections, so the two files always carry the same
figures (and the same figures as the dashboard: all come from one summary). Every stage the
dashboard counts has a row here; every reason is listed (none dropped); the definitions of the
figures travel with them (section "Definisi").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from services.dashboard.domain import labels as lb

Kind = Literal["text", "int", "rp", "pct", "year"]
Value = str | int | float | None
WIB = timezone(timedelta(hours=7), "WIB")


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
    """part / whole as a fraction, rounded by the one rule of labels.percent_tenths (so a cell
    formatted 0.0% never shows a shortfall as 100%); None when whole is 0."""
    tenths = lb.percent_tenths(part, whole)
    return None if tenths is None else tenths / 1000


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


def _decree_note(data: dict[str, Any]) -> str:
    return (
        ""
        if data["programme"]["requires_decree"]
        else " (tidak wajib SK: pendaftaran BPJS tanpa menunggu SK)"
    )


def summary_section(data: dict[str, Any]) -> Section:
    """Every stage, grouped by the partitions of docs/dashboard.md, with its share."""
    t = data["totals"]
    s = Section(
        "Ringkasan", "Ringkasan", [Column("Indikator", "text"), Column("Jumlah", "int"), Column("%", "pct")]
    )

    def row(key: str, of: str | None = None, label: str | None = None) -> None:
        s.rows.append([label or lb.COUNTER_LABELS[key], t[key], share(t[key], t[of]) if of else None])

    row("nominated")
    for key in ("validated", "rejected", "withdrawn", "pending"):
        row(key, "nominated", "  " + lb.COUNTER_LABELS[key])
    row("decided")
    for key in ("assigned", "waitlisted", "declined", "released"):
        row(key, "decided", "  " + lb.COUNTER_LABELS[key])
    row("seats")
    row("assigned", "seats", "Kuota terisi")
    row("decreed", "assigned", "Ditetapkan SK" + _decree_note(data))
    s.rows.append(["SK terbit (termasuk SK perubahan)", t["decrees"], None])
    s.rows.append(["SK perubahan", t["decree_changes"], None])
    row("requested")
    for key in ("enrolled", "failed", "registering"):
        row(key, "requested", "  " + lb.COUNTER_LABELS[key])
    row("lapsed", "enrolled")
    row("in_arrears", "enrolled")
    row("membership_ended")
    s.rows.append(["Klaim dibayar BPJS", t["claims"], None])
    s.rows.append(["Klaim ditandai", t["claims_flagged"], share(t["claims_flagged"], t["claims"])])
    return s


def identities_section(data: dict[str, Any]) -> Section:
    """The sums that hold between the figures, and whether they hold."""
    s = Section(
        "Kesesuaian",
        "Kesesuaian angka",
        [Column("Identitas", "text"), Column("Kiri"), Column("Kanan"), Column("Sesuai", "text")],
    )
    for i in data["identities"]:
        s.rows.append([i["label"], i["left"], i["right"], "Ya" if i["holds"] else "TIDAK"])
    return s


def budget_section(data: dict[str, Any]) -> Section:
    t, b = data["totals"], data["budget"]
    s = Section(
        "Anggaran", "Anggaran", [Column("Uraian", "text"), Column("Rupiah", "rp"), Column("%", "pct")]
    )
    s.rows += [
        ["Pagu" if data["scope"].get("whole_programme", True) else "Alokasi kuota", b["cap"], None],
        [
            "Anggaran terikat (pemegang kuota × biaya per pekerja)",
            b["committed"],
            share(b["committed"], b["cap"]),
        ],
        ["Sisa pagu", b["remaining"], share(b["remaining"], b["cap"])],
        ["Iuran ditagih", t["billed"], share(t["billed"], b["cap"])],
        ["Iuran dibayar", b["paid"], share(b["paid"], b["cap"])],
        ["Nilai klaim dibayar BPJS", t["claims_amount"], None],
    ]
    return s


REGENCY_COLUMNS = [
    ("code", Column("Kode", "text")),
    ("name", Column("Kabupaten/Kota", "text")),
    ("seats", Column("Kuota")),
    ("nominated", Column("Diusulkan")),
    ("validated", Column("Lolos")),
    ("rejected", Column("Ditolak")),
    ("withdrawn", Column("Dibatalkan")),
    ("assigned", Column("Dapat kuota")),
    ("waitlisted", Column("Tunggu")),
    ("released", Column("Dilepas")),
    ("decreed", Column("SK")),
    ("enrolled", Column("Terdaftar")),
    ("failed", Column("Gagal")),
    ("in_arrears", Column("Menunggak")),
]

REGENCY_MONEY_COLUMNS = [
    ("code", Column("Kode", "text")),
    ("name", Column("Kabupaten/Kota", "text")),
    ("allotment", Column("Alokasi kuota", "rp")),
    ("committed", Column("Anggaran terikat", "rp")),
    ("paid", Column("Iuran dibayar", "rp")),
    ("claims", Column("Klaim")),
    ("claims_amount", Column("Nilai klaim", "rp")),
]


def _table(key: str, title: str, columns: list[tuple[str, Column]], rows: list[dict[str, Any]]) -> Section:
    s = Section(key, title, [c for _, c in columns])
    for row in rows:
        s.rows.append([row[k] for k, _ in columns])
    if len(rows) > 1:
        s.total = ["", "Jumlah"] + [sum(r[k] for r in rows) for k, _ in columns[2:]]
    return s


def regency_section(data: dict[str, Any]) -> Section:
    return _table("Kabupaten-Kota", "Per kabupaten/kota", REGENCY_COLUMNS, data["regencies"])


def regency_money_section(data: dict[str, Any]) -> Section:
    return _table(
        "Anggaran per wilayah",
        "Anggaran dan klaim per kabupaten/kota",
        REGENCY_MONEY_COLUMNS,
        data["regencies"],
    )


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


def villages_section(data: dict[str, Any]) -> Section:
    cap = data["programme"].get("village_cap")
    s = Section(
        "Desa",
        f"Pemegang kuota per desa/kelurahan (batas {cap} per desa)",
        [
            Column("Kode", "text"),
            Column("Desa/kelurahan", "text"),
            Column("Dapat kuota"),
            Column("Batas"),
            Column("Terisi", "pct"),
        ],
    )
    for v in data.get("villages", []):
        s.rows.append([v["code"], v["name"], v["assigned"], v["cap"], share(v["assigned"], v["cap"])])
    return s


def ranked_section(key: str, title: str, items: list[dict[str, Any]], of: int) -> Section:
    s = Section(
        key, title, [Column("Kode", "text"), Column("Uraian", "text"), Column("Jumlah"), Column("%", "pct")]
    )
    for item in items:
        s.rows.append([item["code"], item["label"], item["count"], share(item["count"], of)])
    return s


def billing_section(data: dict[str, Any]) -> Section:
    cols = [
        Column("Bulan", "text"),
        Column("Sumber dana", "text"),
        Column("Pekerja ditagih"),
        Column("Ditagih", "rp"),
        Column("Pekerja dibayar"),
        Column("Dibayar", "rp"),
        Column("Belum dibayar", "rp"),
    ]
    s = Section("Iuran", "Iuran ditagih dan dibayar per bulan dan sumber dana", cols)
    for m in data.get("billing", []):
        s.rows.append(
            [
                m["label"],
                m["funder_label"],
                m["billed_workers"],
                m["billed"],
                m["paid_workers"],
                m["paid"],
                m["unpaid"],
            ]
        )
    rows = data.get("billing", [])
    s.total = ["Jumlah", ""] + [
        sum(m[k] for m in rows) for k in ("billed_workers", "billed", "paid_workers", "paid", "unpaid")
    ]
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


def claim_kinds_section(data: dict[str, Any]) -> Section:
    cols = [
        Column("Program", "text"),
        Column("Jenis manfaat", "text"),
        Column("Klaim"),
        Column("Nilai", "rp"),
        Column("Ditandai"),
    ]
    s = Section("Klaim per jenis", "Klaim per jenis manfaat", cols)
    for k in data["claims"].get("kinds", []):
        s.rows.append(
            [k["type"], lb.label(lb.CLAIM_KIND_LABELS, k["kind"]), k["claims"], k["amount"], k["flagged"]]
        )
    return s


def decrees_section(data: dict[str, Any]) -> Section:
    cols = [
        Column("Versi"),
        Column("Nomor SK", "text"),
        Column("Tanggal", "text"),
        Column("Penandatangan", "text"),
        Column("Pekerja"),
        Column("Ditambah"),
        Column("Dikeluarkan"),
        Column("Nilai", "rp"),
    ]
    s = Section("SK", "Surat keputusan (SK) dan SK perubahan", cols)
    for d in data["decrees"]:
        s.rows.append(
            [
                d["version"],
                d["number"],
                d["date"],
                d["signer"],
                d["worker_count"],
                d["added"],
                d["removed"],
                d["total_cost"],
            ]
        )
    if not data["programme"]["requires_decree"]:
        s.note = "Program ini tidak wajib SK: pekerja didaftarkan ke BPJS tanpa menunggu SK."
    return s


def definitions_section() -> Section:
    """What each figure counts and from which events (docs/dashboard.md, "Figures")."""
    s = Section(
        "Definisi",
        "Definisi angka",
        [Column("Angka", "text"), Column("Yang dihitung", "text"), Column("Dari peristiwa", "text")],
    )
    for label, meaning, events in lb.DEFINITIONS:
        s.rows.append([label, meaning, events])
    return s


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
