"""`lindung demo ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Demo data: a deterministic province-year.", no_args_is_help=True)
