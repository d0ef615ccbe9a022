"""CLI tables print figures whole, also into a pipe (where Rich assumes 80 columns)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table

from lindung_cli.tables import print_whole


def test_a_table_wider_than_the_output_keeps_every_figure_whole() -> None:
    out = io.StringIO()
    console = Console(file=out, width=40, force_terminal=False)
    table = Table()
    for column in ("funder", "JKK", "JKM", "total"):
        table.add_column(column)
    table.add_row("DBH_SAWIT", "Rp1.234.567.890", "Rp839.506.160", "Rp2.074.074.050")
    print_whole(console, table)
    text = out.getvalue()
    for figure in ("DBH_SAWIT", "Rp1.234.567.890", "Rp839.506.160", "Rp2.074.074.050"):
        assert figure in text
    assert "…" not in text
    assert console.width == 40  # the console is left as it was


def test_premiums_bill_and_show_print_rupiah_whole_into_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    from lindung_cli.commands import premiums

    out = io.StringIO()
    monkeypatch.setattr(premiums, "console", Console(file=out, width=80, force_terminal=False))
    bill = {"status": "paid"}
    line = {
        "funder": "SILPA_DBH_SAWIT",
        "regency_code": "12.10",
        "workers": 20_877,
        "jkk_total": 10_020_960_000,
        "jkm_total": 7_014_672_000,
        "total": 17_035_632_000,
        "paid_total": 17_035_632_000,
        "bills": [bill] * 3,
    }
    premiums.print_bill({"programme_code": "SUMUT-2025", "month": "2025-03", "lines": [line], "totals": line})
    text = out.getvalue()
    for figure in ("Rp10.020.960.000", "Rp7.014.672.000", "Rp17.035.632.000", "SILPA_DBH_SAWIT"):
        assert figure in text
    assert "…" not in text
