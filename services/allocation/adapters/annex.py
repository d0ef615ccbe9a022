"""The annex (lampiran) of a decree: the list per regency and sector, masked NIKs, totals and budget.

Two renderings of the same `Annex`: CSV for systems and spreadsheets (worker rows carry the
worker id and sector code, so the decree's list hash can be recomputed from them, see
domain/decree.py), and a printable PDF (reportlab) for the signed decree. Names and masked NIKs
only: never a full NIK.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from libs.regions import PROVINCE_CODE, region_by_code
from libs.spreadsheet import SafeWriter
from services.allocation.domain.programme import DecreeKind
from services.allocation.domain.wording import number, rupiah, sector_name, tanggal

RELEASE_REASONS = {
    "withdrawn": "usulan ditarik",
    "died": "meninggal dunia",
    "enrollment_failed": "gagal didaftarkan di BPJS Ketenagakerjaan",
    "held_by_other_programme": "dibiayai program lain",
    "membership_ended": "kepesertaan BPJS Ketenagakerjaan berakhir",
}


@dataclass(frozen=True)
class AnnexLine:
    """One worker on the list (or taken off it, for an SK perubahan)."""

    worker_id: str
    regency_code: str
    sector: str
    full_name: str
    nik_masked: str
    release_reason: str | None = None

    @property
    def regency_name(self) -> str:
        return regency_name(self.regency_code)


@dataclass(frozen=True)
class Annex:
    """Everything the annex prints, as recorded in the read models for one decree."""

    programme_code: str
    programme_name: str
    jurisdiction: str
    decree_number: str
    decree_date: dt.date
    signer: str
    version: int
    supersedes: str | None
    list_sha256: str
    premium_per_month: int
    months: int
    budget_cap: int
    lines: Sequence[AnnexLine]
    added: frozenset[str] = field(default_factory=frozenset)
    removed: Sequence[AnnexLine] = ()
    kind: DecreeKind = DecreeKind.SK_GUBERNUR

    @property
    def cost_per_worker(self) -> int:
        return self.premium_per_month * self.months

    @property
    def worker_count(self) -> int:
        return len(self.lines)

    @property
    def total_cost(self) -> int:
        return self.worker_count * self.cost_per_worker

    @property
    def budget_left(self) -> int:
        return self.budget_cap - self.total_cost

    def cells(self) -> Iterator[tuple[str, str, list[AnnexLine]]]:
        """(regency, sector, lines) in Kemendagri then sector order."""
        ordered = sorted(self.lines, key=lambda x: (x.regency_code, x.sector, x.full_name, x.worker_id))
        for (regency, sector), group in groupby(ordered, key=lambda x: (x.regency_code, x.sector)):
            yield regency, sector, list(group)

    def regency_totals(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for line in self.lines:
            counts[line.regency_code] = counts.get(line.regency_code, 0) + 1
        return sorted(counts.items())

    @property
    def instrument(self) -> str:
        """What the annex is attached to: a decree (KEPUTUSAN), or a regulation (PERATURAN) for a
        Perkada."""
        return "PERATURAN" if self.kind is DecreeKind.PERKADA else "KEPUTUSAN"

    @property
    def authority(self) -> str:
        """Who signs: the governor for the province, else the regent / mayor."""
        if self.jurisdiction == PROVINCE_CODE:
            return "GUBERNUR SUMATERA UTARA"
        region = region_by_code(self.jurisdiction)
        if region is None:
            return "BUPATI"
        title = "WALI KOTA" if region.kind == "kota" else "BUPATI"
        return f"{title} {region.name.upper()}"


def regency_name(code: str) -> str:
    region = region_by_code(code)
    return region.official_name if region else code


# --- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "baris",
    "no",
    "kode_kab_kota",
    "kab_kota",
    "sektor",
    "nama",
    "nik",
    "worker_id",
    "jumlah_pekerja",
    "biaya_rp",
)


def annex_csv(annex: Annex) -> str:
    """The annex as CSV: `pekerja` rows, then subtotals per cell and regency, totals and budget.

    Filter `baris == pekerja` for the list itself; `worker_id|kode_kab_kota|sektor` of those rows,
    sorted, is the canonical list whose SHA-256 the decree carries.
    """
    out = io.StringIO()
    # Names and desa are what officers typed: neutralised where they start like a formula.
    writer = SafeWriter(csv.writer(out, lineterminator="\n"))
    writer.writerow(CSV_COLUMNS)
    cost = annex.cost_per_worker
    n = 0
    per_regency: dict[str, int] = {}
    for regency, sector, lines in annex.cells():
        for line in lines:
            n += 1
            writer.writerow(
                (
                    "pekerja",
                    n,
                    regency,
                    line.regency_name,
                    sector,
                    line.full_name,
                    line.nik_masked,
                    line.worker_id,
                    "",
                    "",
                )
            )
        writer.writerow(
            (
                "jumlah_sektor",
                "",
                regency,
                regency_name(regency),
                sector,
                "",
                "",
                "",
                len(lines),
                len(lines) * cost,
            )
        )
        per_regency[regency] = per_regency.get(regency, 0) + len(lines)
    for regency, count in sorted(per_regency.items()):
        writer.writerow(
            ("jumlah_kab_kota", "", regency, regency_name(regency), "", "", "", "", count, count * cost)
        )
    writer.writerow(("jumlah", "", "", "", "", "", "", "", annex.worker_count, annex.total_cost))
    writer.writerow(("pagu", "", "", "", "", "", "", "", "", annex.budget_cap))
    writer.writerow(("sisa_pagu", "", "", "", "", "", "", "", "", annex.budget_left))
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def annex_pdf(annex: Annex) -> bytes:
    """The annex as a printable A4 PDF."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Lampiran SK {annex.decree_number}",
        author="Lindung",
    )
    doc.build(_story(annex), onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle(
            "title", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=10, leading=13
        ),
        "body": ParagraphStyle("body", parent=base["Normal"], fontSize=9, leading=12),
        "heading": ParagraphStyle(
            "heading", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=9, leading=12, spaceBefore=6
        ),
    }


def _story(annex: Annex) -> list[Flowable]:
    s = _styles()
    story: list[Flowable] = [
        Paragraph(f"LAMPIRAN {annex.instrument} {annex.authority}", s["title"]),
        Paragraph(f"NOMOR: {escape(annex.decree_number)}", s["title"]),
        Paragraph(f"TANGGAL: {tanggal(annex.decree_date).upper()}", s["title"]),
        Paragraph(
            "TENTANG: PENERIMA BANTUAN IURAN JAMINAN KECELAKAAN KERJA DAN JAMINAN KEMATIAN "
            "BPJS KETENAGAKERJAAN BAGI PEKERJA RENTAN",
            s["title"],
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"Program: {escape(annex.programme_name)} ({annex.programme_code})", s["body"]),
    ]
    if annex.supersedes:
        story.append(
            Paragraph(
                f"SK perubahan ke-{annex.version - 1} atas Keputusan Nomor {escape(annex.supersedes)}",
                s["body"],
            )
        )
    story += [Spacer(1, 3 * mm), Paragraph("A. REKAPITULASI", s["heading"]), _recap(annex, s)]
    story += _budget(annex, s)
    story.append(Paragraph("B. DAFTAR PENERIMA", s["heading"]))
    for regency, sector, lines in annex.cells():
        story += _cell_table(annex, regency, sector, lines, s)
    if annex.version > 1:
        story += _changes(annex, s)
    story += [
        Spacer(1, 8 * mm),
        KeepTogether(
            [
                Paragraph(f"{annex.authority},", s["body"]),
                Spacer(1, 14 * mm),
                Paragraph(escape(annex.signer), s["body"]),
            ]
        ),
    ]
    return story


def _recap(annex: Annex, s: dict[str, ParagraphStyle]) -> Table:
    cost = annex.cost_per_worker
    rows: list[list[str]] = [["No", "Kabupaten/Kota", "Sektor", "Jumlah Pekerja", "Biaya"]]
    for i, (regency, sector, lines) in enumerate(annex.cells(), start=1):
        rows.append(
            [
                str(i),
                regency_name(regency),
                sector_name(sector),
                number(len(lines)),
                rupiah(len(lines) * cost),
            ]
        )
    rows.append(["", "JUMLAH", "", number(annex.worker_count), rupiah(annex.total_cost)])
    table = Table(rows, colWidths=[10 * mm, 60 * mm, 25 * mm, 30 * mm, 40 * mm], repeatRows=1)
    table.setStyle(_GRID)
    table.setStyle(
        TableStyle([("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"), ("ALIGN", (3, 1), (4, -1), "RIGHT")])
    )
    return table


def _budget(annex: Annex, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    return [
        Spacer(1, 3 * mm),
        Paragraph(
            f"Iuran per pekerja: {rupiah(annex.premium_per_month)} per bulan × {annex.months} bulan = "
            f"{rupiah(annex.cost_per_worker)}",
            s["body"],
        ),
        Paragraph(f"Jumlah pekerja: {number(annex.worker_count)}", s["body"]),
        Paragraph(f"Jumlah biaya: {rupiah(annex.total_cost)}", s["body"]),
        Paragraph(f"Pagu anggaran: {rupiah(annex.budget_cap)}", s["body"]),
        Paragraph(f"Sisa pagu: {rupiah(annex.budget_left)}", s["body"]),
        Paragraph(f"SHA-256 daftar: {annex.list_sha256}", s["body"]),
    ]


def _cell_table(
    annex: Annex, regency: str, sector: str, lines: list[AnnexLine], s: dict[str, ParagraphStyle]
) -> list[Flowable]:
    rows: list[list[str]] = [["No", "Nama", "NIK"]]
    rows += [[str(i), line.full_name, line.nik_masked] for i, line in enumerate(lines, start=1)]
    table = Table(rows, colWidths=[12 * mm, 100 * mm, 45 * mm], repeatRows=1)
    table.setStyle(_GRID)
    heading = f"{regency_name(regency)} ({regency}) - Sektor {sector_name(sector)}"
    total = (
        f"Jumlah {regency_name(regency)} Sektor {sector_name(sector)}: {number(len(lines))} pekerja, "
        f"{rupiah(len(lines) * annex.cost_per_worker)}"
    )
    return [Paragraph(heading, s["heading"]), table, Paragraph(total, s["body"])]


def _changes(annex: Annex, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    title = f"C. PERUBAHAN TERHADAP KEPUTUSAN NOMOR {escape(annex.supersedes or '')}"
    story: list[Flowable] = [Paragraph(title, s["heading"])]
    added = [line for line in annex.lines if line.worker_id in annex.added]
    story.append(Paragraph(f"Ditambahkan: {number(len(added))} pekerja", s["body"]))
    if added:
        rows = [["No", "Nama", "NIK", "Kabupaten/Kota"]]
        rows += [[str(i), x.full_name, x.nik_masked, x.regency_name] for i, x in enumerate(added, start=1)]
        story.append(_plain(rows))
    story.append(Paragraph(f"Dikeluarkan: {number(len(annex.removed))} pekerja", s["body"]))
    if annex.removed:
        rows = [["No", "Nama", "NIK", "Kabupaten/Kota", "Alasan"]]
        rows += [
            [
                str(i),
                x.full_name,
                x.nik_masked,
                x.regency_name,
                RELEASE_REASONS.get(x.release_reason or "", "-"),
            ]
            for i, x in enumerate(annex.removed, start=1)
        ]
        story.append(_plain(rows))
    return story


def _plain(rows: list[list[str]]) -> Table:
    table = Table(rows, repeatRows=1)
    table.setStyle(_GRID)
    return table


def _page_number(canvas: object, doc: object) -> None:
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(canvas, Canvas)
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Halaman {canvas.getPageNumber()}")
    canvas.restoreState()
