"""The annex (lampiran) of a decree as a printable A4 PDF (reportlab), for the signed decree."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from services.allocation.adapters.annex import RELEASE_REASONS, Annex, AnnexLine, regency_name
from services.allocation.domain.wording import number, rupiah, sector_name, tanggal

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
