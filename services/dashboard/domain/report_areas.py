"""The report's tables per area and per reason: regencies, sectors, desa, and reasons ranked."""

from __future__ import annotations

from typing import Any

from services.dashboard.domain import labels as lb
from services.dashboard.domain.report_cells import Column, Section, share

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
