"""`lindung reference ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="P3KE and DTKS reference extracts.", no_args_is_help=True)
