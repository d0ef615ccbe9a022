"""`lindung premiums ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Monthly premium bills and payments.", no_args_is_help=True)
