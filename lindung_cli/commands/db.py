"""`lindung db roles`: the database roles services and auditors connect as (docs/security.md)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from libs.settings import get_settings

app = typer.Typer(
    help="Database roles: the owner migrates, services append, auditors read.", no_args_is_help=True
)
console = Console()


@app.command()
def roles(
    out: Annotated[
        Path | None,
        typer.Option(help="Env file of the roles' URLs, written 0600 (default: <data_dir>/db-roles.env)"),
    ] = None,
) -> None:
    """Create (or refresh, with new passwords) a role per service and the auditor's, and grant
    them their tables: run as the owner (LINDUNG_DATABASE_OWNER_URL) after every migration."""
    from libs.eventstore.roles import AUDITOR, create_logins, login_url
    from libs.runtime.migrate import SERVICES_WITH_SCHEMAS

    settings = get_settings()
    owner = settings.database_owner_url or settings.database_url
    if not owner:
        console.print("[red]Set LINDUNG_DATABASE_OWNER_URL (the schemas' owner, with CREATEROLE).[/]")
        raise typer.Exit(2)
    logins = asyncio.run(create_logins(owner, settings.database_role_prefix, SERVICES_WITH_SCHEMAS))
    path = out or Path(settings.data_dir) / "db-roles.env"
    path.parent.mkdir(parents=True, exist_ok=True)
    names = {
        who: "LINDUNG_AUDIT_DATABASE_URL" if who == AUDITOR else f"{who.upper()}_DATABASE_URL"
        for who in logins
    }
    lines = [f"{names[who]}={login_url(owner, login)}" for who, login in logins.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as env_file:
        env_file.write("\n".join(lines) + "\n")
    for who, login in logins.items():
        console.print(f"role [bold]{login.role}[/] ({who}) granted")
    console.print(f"URLs with the new passwords in {path} (0600): give each service its own as DATABASE_URL")
