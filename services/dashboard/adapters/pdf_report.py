"""The monitoring-and-evaluation report as PDF (reportlab, A4 landscape, Indonesian)."""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from libs.spreadsheet import pdf_text
from services.dashboard.adapters.pdf_map import map_drawing
from services.dashboard.domain import labels as lb
from services.dashboard.domain.geo import Atlas
from services.dashboard.domain.report import Section, Value, programme_facts, sections, stamp, title_lines

PRIMARY = colors.HexColor("#0b4f8a")
JKK_COLOUR = colors.HexColor("#1f77b4")
JKM_COLOUR = colors.HexColor("#2a9d8f")
ZEBRA = colors.HexColor("#f1f5f9")

_styles = getSampleStyleSheet()
H1 = ParagraphStyle("h1", parent=_styles["Title"], fontSize=18, textColor=PRIMARY, spaceAfter=2)
H2 = ParagraphStyle("h2", parent=_styles["Heading2"], fontSize=12, textColor=PRIMARY, spaceBefore=8)
BODY = ParagraphStyle("body", parent=_styles["BodyText"], fontSize=9, leading=12)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7.5, leading=9)
CELL_RIGHT = ParagraphStyle("cellr", parent=CELL, alignment=TA_RIGHT)


def cell_text(kind: str, value: Value) -> str:
    """A value as the report prints it (Indonesian digit grouping, Rp, decimal comma)."""
    if value is None or value == "":
        return "–" if kind == "pct" else ""
    if kind == "rp":
        return lb.rupiah(int(value))
    if kind == "int":
        return lb.number(int(value))
    if kind == "year":
        return str(int(value))
    if kind == "pct":
        # Shares arrive rounded by labels.percent_tenths (report.share): printed as they are.
        return lb.percent_of_tenths(round(float(value) * 1000))
    return str(value)


PAD = 3.0  # left and right padding of every cell, points
FONT, BOLD_FONT = "Helvetica", "Helvetica-Bold"


def _longest_word(text: str, font: str, size: float) -> float:
    return max((stringWidth(w, font, size) for w in text.split()), default=0.0)


def column_widths(section: Section, width: float, size: float) -> list[float] | None:
    """Widths that hold every number and rupiah on one line and every word whole (text wraps only
    at spaces), sharing what is left among the text columns; None when `size` is too large to fit.
    """
    rows = section.rows + ([section.total] if section.total else [])
    least: list[float] = []
    wanted: list[float] = []
    for i, c in enumerate(section.columns):
        header = _longest_word(c.title, BOLD_FONT, size)
        texts = [cell_text(c.kind, r[i]) for r in rows]
        if c.kind == "text":
            word = max((_longest_word(t, FONT, size) for t in texts), default=0.0)
            full = max((stringWidth(t, FONT, size) for t in texts), default=0.0)
            least.append(max(header, word) + 2 * PAD)
            wanted.append(max(header, full, stringWidth(c.title, BOLD_FONT, size)) + 2 * PAD)
        else:
            whole = max((stringWidth(t, BOLD_FONT, size) for t in texts), default=0.0)
            least.append(max(header, whole) + 2 * PAD)
            wanted.append(least[-1])
    if sum(least) > width:
        return None
    if sum(wanted) <= width:
        return wanted
    # Text columns get their least, then share the rest in proportion to what more they want.
    rest = width - sum(least)
    more = [w - m for w, m in zip(wanted, least, strict=True)]
    total_more = sum(more) or 1.0
    return [m + rest * extra / total_more for m, extra in zip(least, more, strict=True)]


def section_table(section: Section, width: float) -> Table:
    """The section as a table no wider than `width`: fonts shrink (down to 5.5 pt) before any
    number would wrap or any word would be split."""
    size = 7.5
    widths = column_widths(section, width, size)
    while widths is None and size > 5.5:
        size -= 0.5
        widths = column_widths(section, width, size)
    if widths is None:  # still too wide: the table may run past the margin, never split a word
        widths = column_widths(section, 10_000, size) or []
    left = ParagraphStyle("cell", parent=CELL, fontSize=size, leading=size + 1.5, splitLongWords=0)
    header_style = ParagraphStyle("head", parent=left, fontName=BOLD_FONT)
    header_right = ParagraphStyle("headr", parent=header_style, alignment=TA_RIGHT)
    header = [
        Paragraph(pdf_text(c.title), header_style if c.kind == "text" else header_right)
        for c in section.columns
    ]
    body: list[list[Any]] = [header]
    for row in section.rows + ([section.total] if section.total else []):
        body.append(
            [
                Paragraph(pdf_text(cell_text(c.kind, v)), left) if c.kind == "text" else cell_text(c.kind, v)
                for c, v in zip(section.columns, row, strict=True)
            ]
        )
    table = Table(body, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dbe7f3")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, PRIMARY),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONT", (0, 1), (-1, -1), FONT, size),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for i, c in enumerate(section.columns):
        if c.kind != "text":
            style.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
    for i in range(2, len(body), 2):
        style.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
    if section.total:
        style += [
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, PRIMARY),
            ("BACKGROUND", (0, -1), (-1, -1), ZEBRA),
            ("FONT", (0, -1), (-1, -1), BOLD_FONT, size),
        ]
    table.setStyle(TableStyle(style))
    return table


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at least `value`: an axis end above the longest bar."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return 10.0 * magnitude


def funnel_chart(data: dict[str, Any], width: float) -> Drawing:
    stages = list(reversed(data["funnel"]))
    drawing = Drawing(width, 150)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 95, 10, width - 130, 125
    chart.data = [[s["count"] for s in stages]]
    # "Ditetapkan SK 0" of a programme that needs no SK says so.
    no_decree = not data["programme"]["requires_decree"]
    chart.categoryAxis.categoryNames = [
        "SK: tidak wajib" if no_decree and s["stage"] == "decreed" else s["label"] for s in stages
    ]
    chart.categoryAxis.labels.fontSize = 8
    # The axis ends past the longest bar and its label: no bar or number runs outside the chart.
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = nice_ceiling(max(chart.data[0], default=0) * 1.2)
    chart.valueAxis.valueStep = chart.valueAxis.valueMax / 4
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: lb.number(int(v))
    chart.bars[0].fillColor = PRIMARY
    chart.barLabelFormat = lambda v: lb.number(int(v))
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    drawing.add(String(0, 140, "Alur peserta", fontSize=9, fillColor=PRIMARY, fontName="Helvetica-Bold"))
    return drawing


def claims_chart(data: dict[str, Any], width: float) -> Drawing:
    months = data["claims"]["by_month"]
    drawing = Drawing(width, 150)
    drawing.add(
        String(
            0,
            140,
            "Nilai klaim per bulan (juta rupiah)",
            fontSize=9,
            fillColor=PRIMARY,
            fontName="Helvetica-Bold",
        )
    )
    if not months:
        drawing.add(String(0, 70, "Belum ada klaim.", fontSize=8))
        return drawing
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 25, width - 60, 105
    chart.data = [[m[k]["amount"] / 1_000_000 for m in months] for k in ("JKK", "JKM")]
    chart.categoryAxis.categoryNames = [m["label"] for m in months]
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = nice_ceiling(max((v for series in chart.data for v in series), default=0))
    chart.valueAxis.valueStep = chart.valueAxis.valueMax / 4
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: (
        f"{v:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    )
    chart.bars[0].fillColor = JKK_COLOUR
    chart.bars[1].fillColor = JKM_COLOUR
    drawing.add(chart)
    for x, name, colour in ((width - 120, "JKK", JKK_COLOUR), (width - 70, "JKM", JKM_COLOUR)):
        drawing.add(Rect(x, 139, 7, 7, fillColor=colour, strokeColor=None))
        drawing.add(String(x + 10, 140, name, fontSize=8, fillColor=colour))
    return drawing


def _footer(stamp: str) -> Any:
    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(doc.leftMargin, 8 * mm, f"Lindung · dibuat {stamp} · tanpa data pribadi (NIK)")
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 8 * mm, f"Halaman {doc.page}")
        canvas.restoreState()

    return draw


def render_pdf(data: dict[str, Any], *, atlas: Atlas, now: datetime) -> bytes:
    """The report of one programme summary (application/views/summary.py) as PDF bytes, made
    `now`, its map drawn from `atlas`."""
    buffer = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=f"Laporan Monev {data['programme']['code']}",
        author="Lindung",
        subject=data["scope"]["name"],
    )
    width = page[0] - doc.leftMargin - doc.rightMargin
    made = stamp(now)
    first, *rest = title_lines(data)
    # Every text is escaped: names of programmes, places and reasons are data, not markup.
    story: list[Any] = [Paragraph(pdf_text(first), H1)] + [Paragraph(pdf_text(line), BODY) for line in rest]
    facts = Table(
        [
            [Paragraph(f"<b>{pdf_text(k)}</b>", CELL), Paragraph(pdf_text(cell_text(kind, v)), CELL)]
            for k, v, kind in programme_facts(data)
        ],
        colWidths=[60 * mm, 110 * mm],
        hAlign="LEFT",
    )
    story += [Spacer(1, 4), facts, Spacer(1, 6)]
    charts = Table([[funnel_chart(data, width / 2 - 6), claims_chart(data, width / 2 - 6)]])
    story += [charts, Spacer(1, 4), map_drawing(data, atlas, width, 330)]
    for section in sections(data):
        block: list[Any] = [Paragraph(pdf_text(section.title), H2)]
        if section.rows or section.total:
            block.append(section_table(section, width))
        else:
            block.append(Paragraph("Tidak ada data.", BODY))
        if section.note:
            block.append(Paragraph(pdf_text(section.note), BODY))
        story.append(KeepTogether(block) if len(section.rows) < 25 else block[0])
        if len(section.rows) >= 25:
            story += block[1:]
    doc.build(story, onFirstPage=_footer(made), onLaterPages=_footer(made))
    return buffer.getvalue()
