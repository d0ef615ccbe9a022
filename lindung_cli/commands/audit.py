"""`lindung audit ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Audits: replay, point in time, hash chains, export.", no_args_is_help=True)
