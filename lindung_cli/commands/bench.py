"""`lindung bench ...` commands: measurements for the benchmark report, never pass/fail tests."""

from __future__ import annotations

import asyncio
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from libs.settings import get_settings

app = typer.Typer(help="Benchmarks.", no_args_is_help=True)
console = Console()
RESULTS = Path("bench/results")


def _database_url(url: str | None) -> str:
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    found = url or settings.database_url or (read_runtime(settings.data_dir) or {}).get("database_url")
    if not found:
        console.print("[red]Give --database-url, set DATABASE_URL, or start `lindung up` first.[/]")
        raise typer.Exit(2)
    return str(found)


@app.command("eventstore")
def eventstore(
    events: Annotated[int, typer.Option(help="Events to append")] = 20_000,
    per_transaction: Annotated[int, typer.Option(help="Events per transaction (a nomination is 2)")] = 2,
    database_url: Annotated[str | None, typer.Option(help="PostgreSQL to measure on")] = None,
) -> None:
    """Append/read rates of Lindung's event store vs the eventsourcing library's recorder; rebuild rate."""
    from lindung_cli.benchmarks.eventstore import as_json, run

    result = asyncio.run(run(_database_url(database_url), events, per_transaction))
    table = Table(title=f"Event store: {events:,} events, {per_transaction} per transaction")
    table.add_column("measure")
    table.add_column("Lindung", justify="right")
    table.add_column("eventsourcing 9.5 (peer)", justify="right")
    table.add_column("ratio", justify="right")
    table.add_row(
        "append events/s",
        f"{result.lindung_append_per_s:,.0f}",
        f"{result.peer_append_per_s:,.0f}",
        f"{result.append_ratio:.2f}",
    )
    table.add_row(
        "read events/s",
        f"{result.lindung_read_per_s:,.0f}",
        f"{result.peer_read_per_s:,.0f}",
        f"{result.lindung_read_per_s / result.peer_read_per_s:.2f}",
    )
    table.add_row("read-model rebuild events/s", f"{result.rebuild_per_s:,.0f}", "-", "-")
    console.print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"eventstore-{stamp}.json"
    out.write_text(
        as_json(result).rstrip("}") + f',\n  "machine": "{platform.machine()} {platform.processor()}"\n}}\n'
    )
    console.print(f"written {out}")
