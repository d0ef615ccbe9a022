"""Printing tables whole: a rupiah amount or a code cut to "Rp10.0…" is worse than a long line."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table


def print_whole(console: Console, table: Table) -> None:
    """Print `table` at least as wide as its widest row needs: into a pipe or a file Rich assumes
    80 columns and would cut cells; a narrow terminal gets long lines rather than cut figures."""
    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    detected = console.width
    console.width = max(detected, needed)  # print(width=) cannot go beyond the console's width
    try:
        console.print(table)
    finally:
        console.width = detected
