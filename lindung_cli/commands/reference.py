"""`lindung reference ...` commands: P3KE and DTKS extracts, imported as versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import httpx
import typer
from rich.console import Console
from rich.table import Table

from lindung_cli import api
from lindung_cli.commands.nominations import service_url
from lindung_cli.tables import print_whole

app = typer.Typer(help="P3KE and DTKS reference extracts.", no_args_is_help=True)
console = Console()


@app.command("import")
def import_(
    kind: Annotated[Literal["p3ke", "dtks"], typer.Argument(help="p3ke (columns nik, desil) or dtks (nik)")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The extract (CSV, UTF-8)")],
    url: Annotated[str | None, typer.Option(help="Registry URL (default: the running `lindung up`)")] = None,
) -> None:
    """Import an extract as a new version; nominations waiting on it are decided again."""
    registry = service_url("registry", url)
    with console.status(f"Importing {file.name} and re-validating waiting nominations..."):
        try:
            answer = api.request(
                "POST",
                f"{registry}/reference/{kind}",
                content=file.read_bytes(),
                params={"source": file.name},
                timeout=httpx.Timeout(30.0, read=None),
            )
        except httpx.HTTPError as exc:
            console.print(f"[red]Registry not reachable at {registry}[/]: {exc}")
            raise typer.Exit(2) from exc
    if answer.status_code != 201:
        detail = (
            answer.json().get("detail", {})
            if answer.headers.get("content-type", "").startswith("application/json")
            else answer.text
        )
        console.print(f"[red]Refused[/] ({answer.status_code}): {detail}")
        raise typer.Exit(1)
    result = answer.json()
    if not result["changed"]:
        console.print(f"{kind.upper()} unchanged: this file is already version {result['version']}.")
        return
    revalidation = result["revalidation"]
    console.print(
        f"{kind.upper()} version {result['sequence']} ({result['version']}): {result['rows']} rows, "
        f"{result['skipped']} skipped (NIK or desil unreadable)."
    )
    console.print(
        f"Re-validated {revalidation['revalidated']} waiting nominations: "
        f"{revalidation['validated']} now validated, {revalidation['rejected']} still rejected."
    )


@app.command("history")
def history(
    kind: Annotated[Literal["p3ke", "dtks"], typer.Argument()],
    url: Annotated[str | None, typer.Option(help="Registry URL (default: the running `lindung up`)")] = None,
) -> None:
    """Every version of an extract ever imported (from the ReferenceDataImported events)."""
    answer = api.request("GET", f"{service_url('registry', url)}/reference/{kind}/history", timeout=30)
    answer.raise_for_status()
    table = Table(title=f"{kind.upper()} versions")
    for column in ("#", "version", "rows", "skipped", "imported at", "file", "sha256"):
        table.add_column(column)
    for v in answer.json():
        table.add_row(
            str(v["sequence"]),
            v["version"],
            str(v["rows"]),
            str(v["skipped"]),
            v["imported_at"][:19],
            v["source_name"],
            v["sha256"][:16] + "…",
        )
    print_whole(console, table)
