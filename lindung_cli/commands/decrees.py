"""`lindung decrees ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Decrees (SK) fixing the beneficiary list.", no_args_is_help=True)
