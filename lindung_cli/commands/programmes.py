"""`lindung programmes ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Programmes, quotas and budgets.", no_args_is_help=True)
