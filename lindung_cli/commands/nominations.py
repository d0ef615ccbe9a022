"""`lindung nominations ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Nominations from regency offices.", no_args_is_help=True)
