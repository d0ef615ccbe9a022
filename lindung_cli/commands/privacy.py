"""`lindung privacy forget NIK --reason ...`: forget a person (docs/security.md, "Forgetting a person").

The CLI asks the registry (`POST /privacy/forget`, province admin only): the service destroys
the person's key and records who (the key's holder) and why. The NIK goes in the request body,
never in a URL, and is never printed.
"""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from rich.console import Console

from lindung_cli import api
from lindung_cli.commands.nominations import service_url

app = typer.Typer(help="Personal data: forget a person (UU 27/2022).", no_args_is_help=True)
console = Console()


@app.command()
def forget(
    nik: Annotated[str, typer.Argument(help="The person's NIK (16 digits)")],
    reason: Annotated[str, typer.Option(help="Why (recorded; write no personal data in it)")],
    officer: Annotated[str | None, typer.Option(help="Who asks, at the desk (recorded)")] = None,
    url: Annotated[str | None, typer.Option(help="Registry URL (default: the running `lindung up`)")] = None,
) -> None:
    """Destroy the person's key: every personal field Lindung holds of them reads "[dilupakan]"
    from then on, in every table, topic, export and annex; counts and money stay."""
    registry = service_url("registry", url)
    headers = {"X-Lindung-Officer": officer} if officer else {}
    try:
        answer = api.request(
            "POST", f"{registry}/privacy/forget", json={"nik": nik, "reason": reason}, headers=headers
        )
    except httpx.HTTPError as exc:
        console.print(f"[red]Registry not reachable at {registry}[/]: {exc}")
        raise typer.Exit(2) from exc
    if answer.status_code != 201:
        detail = (
            answer.json().get("detail", {})
            if answer.headers.get("content-type", "").startswith("application/json")
            else {"message": answer.text}
        )
        console.print(
            f"[red]Ditolak[/] ({answer.status_code}) {detail.get('code', '')}: {detail.get('message', '')}"
        )
        raise typer.Exit(1)
    done = answer.json()
    console.print(
        f"Worker {done['worker_id']} dilupakan: kuncinya dihapus "
        f"(oleh {done['forgotten_by']}; alasan: {done['reason']})."
    )
