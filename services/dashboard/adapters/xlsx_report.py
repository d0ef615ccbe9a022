"""The monitoring-and-evaluation report as an Excel workbook (openpyxl): one sheet per table.

Cells hold numbers (not text), formatted for reading: rupiah as "Rp"#,##0, shares as 0.0%, so
officers can sum and chart them further. Text cells (names of programmes, places, reasons) pass
through libs.spreadsheet.safe_cell: one starting like a formula is never a formula.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from libs.spreadsheet import safe_cell
from services.dashboard.domain.report import Section, programme_facts, sections, stamp, title_lines

FORMATS = {"int": "#,##0", "rp": '"Rp"#,##0', "pct": "0.0%", "text": "@", "year": "0"}
HEADER_FILL = PatternFill("solid", fgColor="DBE7F3")
TITLE_FONT = Font(bold=True, size=14, color="0B4F8A")
BOLD = Font(bold=True)


def _write_section(ws: Worksheet, section: Section, top: int) -> int:
    """Write `section` from row `top`; return the row after it."""
    ws.cell(top, 1, section.title).font = Font(bold=True, size=12, color="0B4F8A")
    header = top + 1
    for col, column in enumerate(section.columns, start=1):
        cell = ws.cell(header, col, column.title)
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(horizontal="left" if column.kind == "text" else "right", wrap_text=True)
    row = header
    for values in section.rows + ([section.total] if section.total else []):
        row += 1
        for col, (column, value) in enumerate(zip(section.columns, values, strict=True), start=1):
            cell = ws.cell(row, col, safe_cell(value))
            cell.number_format = FORMATS[column.kind]
            if section.total is not None and values is section.total:
                cell.font = BOLD
    if section.note:
        row += 1
        ws.cell(row, 1, safe_cell(section.note))
    for col, column in enumerate(section.columns, start=1):
        longest = max((len(str(r[col - 1])) for r in section.rows if r[col - 1] is not None), default=0)
        width = (
            min(max(longest + 2, 13), 90) if column.kind == "text" else (20 if column.kind == "rp" else 13)
        )
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, width)
    return row + 2


def _quota_chart(ws: Worksheet, section: Section) -> None:
    """A bar chart of seats and enrolled workers per regency, beside the regency table."""
    rows = len(section.rows)
    if rows == 0:
        return
    keys = [c.title for c in section.columns]
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Kuota dan peserta terdaftar"
    chart.height, chart.width = max(8.0, rows * 0.45), 16.0
    for title in ("Kuota", "Terdaftar"):
        col = keys.index(title) + 1
        chart.add_data(Reference(ws, min_col=col, min_row=2, max_row=2 + rows), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, min_row=3, max_row=2 + rows))
    ws.add_chart(chart, f"{get_column_letter(len(keys) + 2)}2")


def render_xlsx(data: dict[str, Any], *, now: datetime) -> bytes:
    """The report of one programme summary (application/views/summary.py) as XLSX bytes, made `now`."""
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    cover.title = "Program"
    for i, line in enumerate(title_lines(data), start=1):
        cover.cell(i, 1, safe_cell(line)).font = TITLE_FONT if i == 1 else BOLD
    lines = len(title_lines(data))
    made = stamp(now)
    cover.cell(lines + 1, 1, f"Dibuat {made} oleh Lindung; tanpa data pribadi (NIK).")
    for i, (label, value, kind) in enumerate(programme_facts(data), start=lines + 3):
        cover.cell(i, 1, safe_cell(label)).font = BOLD
        cell = cover.cell(i, 2, safe_cell(value))
        cell.number_format = FORMATS[kind]
        cell.alignment = Alignment(horizontal="left")
    cover.column_dimensions["A"].width = 34
    cover.column_dimensions["B"].width = 60
    for section in sections(data):
        ws = wb.create_sheet(section.key[:31])
        # Each sheet starts with its table header on row 2, so filters and charts find it.
        _write_section(ws, section, 1)
        ws.freeze_panes = "A3"
        if section.key == "Kabupaten-Kota":
            _quota_chart(ws, section)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
