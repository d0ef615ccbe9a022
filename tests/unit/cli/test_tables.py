"""CLI tables print figures whole, also into a pipe (where Rich assumes 80 columns)."""

from __future__ import annotations

import io

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
