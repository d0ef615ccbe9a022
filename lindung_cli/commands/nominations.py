"""`lindung nominations ...` commands: a regency's list into the registry, over HTTP."""

from __future__ import annotations

import csv
import json
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from libs.settings import SERVICE_PORTS, get_settings
from libs.spreadsheet import SafeWriter
from lindung_cli import api
from lindung_cli.runtime_file import read_runtime

app = typer.Typer(help="Nominations from regency offices.", no_args_is_help=True)
console = Console()
NDJSON = "application/x-ndjson"


def service_url(service: str, url: str | None = None) -> str:
    """`url`, else the address a running `lindung up` wrote in var/runtime.json, else the default port."""
    if url:
        return url.rstrip("/")
    settings = get_settings()
    running = read_runtime(settings.data_dir) or {}
    found = running.get("services", {}).get(service)
    if found:
        return str(found).rstrip("/")
    return f"http://127.0.0.1:{SERVICE_PORTS[service] + settings.port_offset}"


@dataclass
class ImportOutcome:
    """What the registry answered for one or more uploaded files."""

    rows: int = 0
    validated: int = 0
    rejected: int = 0
    invalid: int = 0
    rejected_by: Counter[str] = field(default_factory=Counter)
    invalid_by: Counter[str] = field(default_factory=Counter)
    messages: dict[str, str] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, results: list[dict[str, Any]], file: str) -> None:
        for r in results:
            self.rows += 1
            codes = [reason["code"] for reason in r["reasons"]]
            for reason in r["reasons"]:
                self.messages.setdefault(reason["code"], reason["message"])
            if r["status"] == "validated":
                self.validated += 1
            elif r["status"] == "rejected":
                self.rejected += 1
                self.rejected_by.update(codes)
            else:
                self.invalid += 1
                self.invalid_by.update(codes)
            self.results.append({"file": file, **r})

    def merge(self, other: ImportOutcome) -> None:
        self.rows += other.rows
        self.validated += other.validated
        self.rejected += other.rejected
        self.invalid += other.invalid
        self.rejected_by.update(other.rejected_by)
        self.invalid_by.update(other.invalid_by)
        for code, message in other.messages.items():
            self.messages.setdefault(code, message)
        self.results += other.results
        self.seconds += other.seconds


class UploadRefused(RuntimeError):
    def __init__(self, status: int, detail: Any) -> None:
        self.status, self.detail = status, detail
        message = detail.get("message") if isinstance(detail, dict) else None
        super().__init__(f"{status}: {message or detail}")


def upload_file(
    client: httpx.Client,
    registry: str,
    path: Path,
    *,
    programme: str,
    regency: str,
    progress: Progress | None = None,
    officer: str | None = None,
) -> ImportOutcome:
    """POST one list to /nominations/upload and follow the streamed per-row results."""
    outcome = ImportOutcome()
    task = progress.add_task(path.name, total=None) if progress is not None else None
    headers = {"accept": NDJSON, **({"X-Lindung-Officer": officer} if officer else {})}
    started = time.monotonic()
    with (
        path.open("rb") as handle,
        client.stream(
            "POST",
            f"{registry}/nominations/upload",
            params={"programme": programme, "regency": regency},
            files={"file": (path.name, handle, "application/octet-stream")},
            headers=headers,
        ) as answer,
    ):
        if answer.status_code != 200:
            answer.read()
            try:
                detail = answer.json().get("detail")
            except ValueError:
                detail = answer.text
            raise UploadRefused(answer.status_code, detail)
        finished = False
        for line in answer.iter_lines():
            if not line:
                continue
            message = json.loads(line)
            if message["type"] == "start" and progress is not None and task is not None:
                progress.update(task, total=message["rows"])
            elif message["type"] == "rows":
                outcome.add(message["results"], path.name)
                if progress is not None and task is not None:
                    progress.advance(task, len(message["results"]))
            elif message["type"] == "summary":
                finished = True
        if not finished:
            raise UploadRefused(answer.status_code, "the registry stopped answering before the summary")
    outcome.seconds = time.monotonic() - started
    return outcome


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=console,
    )


def _short(message: str) -> str:
    return textwrap.shorten(message, 100, placeholder=" …")


def summary_table(outcome: ImportOutcome, title: str) -> Table:
    """Validated / rejected by reason / invalid by reason, with the officers' messages."""
    table = Table(title=title)
    table.add_column("result")
    table.add_column("rows", justify="right")
    table.add_column("reason (example message)")
    table.add_row("[green]validated[/]", str(outcome.validated), "")
    table.add_row("[yellow]rejected[/]", str(outcome.rejected), "")
    for code, count in outcome.rejected_by.most_common():
        table.add_row(f"  {code}", str(count), _short(outcome.messages.get(code, "")))
    table.add_row("[red]invalid[/] (not recorded)", str(outcome.invalid), "")
    for code, count in outcome.invalid_by.most_common():
        table.add_row(f"  {code}", str(count), _short(outcome.messages.get(code, "")))
    table.add_row("[bold]total[/]", str(outcome.rows), "")
    return table


def write_results(path: Path, outcome: ImportOutcome) -> None:
    """Every row's result as CSV (masked NIK), for the officer to correct the rejected rows."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        # Messages quote what officers typed: neutralised where it starts like a formula.
        writer = SafeWriter(csv.writer(handle))
        writer.writerow(["file", "row", "status", "nomination_id", "nik", "codes", "messages"])
        for r in outcome.results:
            writer.writerow(
                [
                    r["file"],
                    r["row"],
                    r["status"],
                    r["nomination_id"] or "",
                    r["nik"],
                    " ".join(x["code"] for x in r["reasons"]),
                    " | ".join(x["message"] for x in r["reasons"]),
                ]
            )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The list: CSV or XLSX")],
    regency: Annotated[str, typer.Option(help="Kemendagri code of the nominating regency, e.g. 12.17")],
    programme: Annotated[str, typer.Option(help="Programme code, e.g. DEMO-SUMUT-2026")],
    url: Annotated[str | None, typer.Option(help="Registry URL (default: the running `lindung up`)")] = None,
    output: Annotated[Path | None, typer.Option(help="Write every row's result to this CSV")] = None,
    officer: Annotated[str | None, typer.Option(help="Who submits (kept in the history)")] = None,
) -> None:
    """Upload a regency's nomination list and print what happened to its rows."""
    registry = service_url("registry", url)
    with progress_bar() as progress, api.client(timeout=httpx.Timeout(30.0, read=None)) as client:
        try:
            outcome = upload_file(
                client,
                registry,
                file,
                programme=programme,
                regency=regency,
                progress=progress,
                officer=officer,
            )
        except UploadRefused as exc:
            console.print(f"[red]Upload refused[/] ({exc.status}): {exc.detail}")
            raise typer.Exit(1) from exc
        except httpx.HTTPError as exc:
            console.print(f"[red]Registry not reachable at {registry}[/]: {exc}")
            raise typer.Exit(2) from exc
    console.print(summary_table(outcome, f"{file.name} → {programme}, {regency}"))
    rate = outcome.rows / outcome.seconds if outcome.seconds else 0.0
    console.print(f"{outcome.rows} rows in {outcome.seconds:.1f} s ({rate:,.0f} rows/s)")
    if output is not None:
        write_results(output, outcome)
        console.print(f"Per-row results in {output}")
