"""The report's tables of money and documents: premiums billed and paid, claims, decrees (SK)."""

from __future__ import annotations

from typing import Any

from services.dashboard.domain import labels as lb
from services.dashboard.domain.report_cells import Column, Section


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
