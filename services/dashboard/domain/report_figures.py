"""The report's figures of the whole area: every stage with its share, the identities between
them, the budget, and what each figure means."""

from __future__ import annotations

from typing import Any

from services.dashboard.domain import labels as lb
from services.dashboard.domain.report_cells import Column, Section, share


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
