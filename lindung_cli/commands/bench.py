"""`lindung bench ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks.", no_args_is_help=True)
