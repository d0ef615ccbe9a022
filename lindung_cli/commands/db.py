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
    passwords_file: Annotated[
        Path | None,
        typer.Option(
            "--passwords",
            help="YAML file `<service>: <password>` (and `auditor:`) a deployment hands its services "
            "their URLs with; no env file is written unless --out is given.",
        ),
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
    passwords: dict[str, str] | None = None
    if passwords_file is not None:
        passwords = _passwords(passwords_file, (*SERVICES_WITH_SCHEMAS, AUDITOR), always=AUDITOR)
    services = [s for s in SERVICES_WITH_SCHEMAS if passwords is None or s in passwords]
    logins = asyncio.run(create_logins(owner, settings.database_role_prefix, services, passwords=passwords))
    for who, login in logins.items():
        console.print(f"role [bold]{login.role}[/] ({who}) granted")
    if passwords_file is not None and out is None:
        return
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
    console.print(f"URLs with the new passwords in {path} (0600): give each service its own as DATABASE_URL")


def _passwords(path: Path, everyone: tuple[str, ...], always: str) -> dict[str, str]:
    """Each role's password from the deployment's file (an empty one: the deployment does not run
    that service, no login); exit 2 naming what is missing or unsafe."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        console.print(f"[red]{path}: {type(exc).__name__}[/]")
        raise typer.Exit(2) from exc
    entries = loaded.items() if isinstance(loaded, dict) else ()
    given = {str(k): "" if v is None else str(v) for k, v in entries}
    missing = [who for who in everyone if who not in given or (who == always and not given[who])]
    weak = [who for who in everyone if 0 < len(given.get(who, "")) < 16]
    if missing or weak:
        said = [f"no password for {', '.join(missing)}"] if missing else []
        said += [f"shorter than 16 characters: {', '.join(weak)}"] if weak else []
        console.print(f"[red]{path}: {'; '.join(said)}.[/]")
        raise typer.Exit(2)
    for who in everyone:
        if not given[who]:
            console.print(f"{who}: no password given, no login (this deployment does not run it)")
    return {who: given[who] for who in everyone if given[who]}
