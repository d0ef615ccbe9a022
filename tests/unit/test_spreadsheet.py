"""Cells people wrote are never formulas in an export; PDF text is escaped."""

from __future__ import annotations

import csv
import io

import pytest

from libs.spreadsheet import SafeWriter, pdf_text, safe_cell, safe_row


@pytest.mark.parametrize(
    "text", ["=1+1", '=HYPERLINK("http://x","y")', "+62 812", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_a_text_starting_like_a_formula_is_prefixed(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Rosmawati Sinaga", "", "12.17", "Pintu Sona", None, 0, -5, -2.5, 1_000_000]
)
def test_other_values_are_unchanged(value: object) -> None:
    assert safe_cell(value) == value


def test_negative_numbers_stay_numbers() -> None:
    assert safe_row(["sisa_pagu", -1500, "-1500"]) == ["sisa_pagu", -1500, "'-1500"]


def test_the_safe_writer_neutralises_every_row() -> None:
    out = io.StringIO()
    SafeWriter(csv.writer(out, lineterminator="\n")).writerow(["pekerja", 1, '=HYPERLINK("http://x","y")'])
    assert out.getvalue() == 'pekerja,1,"\'=HYPERLINK(""http://x"",""y"")"\n'


def test_pdf_text_escapes_markup() -> None:
    assert pdf_text("<b>A & B</b>") == "&lt;b&gt;A &amp; B&lt;/b&gt;"
