"""`lindung demo ...` commands: a deterministic province-year, generated and loaded."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from lindung_cli import api
from lindung_cli.commands.nominations import (
    ImportOutcome,
    UploadRefused,
    progress_bar,
    service_url,
    summary_table,
    upload_file,
    write_results,
)
from lindung_cli.demo import DEFECT_OUTCOMES, generate_demo, generate_single_list

app = typer.Typer(help="Demo data: a deterministic province-year.", no_args_is_help=True)
console = Console()


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Directory to write the demo into")],
    seed: Annotated[int, typer.Option(help="Same seed, same files")] = 2026,
) -> None:
    """Write programmes, a P3KE extract and every regency's nomination list (about 1.2 x quota)."""
    manifest = generate_demo(seed, out)
    table = Table(title=f"Demo province-year (seed {seed}) in {out}")
    table.add_column("defect")
    table.add_column("rows", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("answered as")
    for name, count in manifest["defects"].items():
        table.add_row(name, str(count), f"{manifest['rates'][name]:.1%}", DEFECT_OUTCOMES[name])
    console.print(table)
    console.print(
        f"{len(manifest['files'])} lists, {manifest['rows']} rows ({manifest['province_rows']} for "
        f"{manifest['programmes'][0]}); P3KE extract of {manifest['p3ke_rows']} rows."
    )


@app.command("single-list")
def single_list(
    out: Annotated[Path, typer.Option(help="Directory to write the list and its P3KE extract into")],
    rows: Annotated[int, typer.Option(help="Rows of the list")] = 25_000,
    regency: Annotated[str, typer.Option(help="Kemendagri code of the regency")] = "12.05",
    seed: Annotated[int, typer.Option(help="Same seed, same files")] = 2026,
) -> None:
    """One big, clean regency list (default 25,000 rows) to measure the upload rate:
    `lindung reference import p3ke <extract>` then `lindung nominations import <list>` prints rows/s."""
    listing, p3ke = generate_single_list(seed, rows, regency, out)
    console.print(f"List: {listing}\nP3KE extract: {p3ke}")
    console.print(
        f"lindung reference import p3ke {p3ke} && "
        f"lindung nominations import {listing} --regency {regency} --programme DEMO-SUMUT-2026"
    )


def _define_programmes(client: httpx.Client, directory: Path, allocation: str, registry: str) -> list[str]:
    codes = []
    for path in sorted((directory / "programmes").glob("*.yaml")):
        answer = client.post(
            f"{allocation}/programmes",
            content=path.read_bytes(),
            headers={"content-type": "application/yaml"},
        )
        if answer.status_code not in (201, 409):
            raise RuntimeError(f"programme {path.name} refused: {answer.status_code} {answer.text}")
        codes.append(path.stem)
    deadline = time.monotonic() + 60
    while True:
        known = {p["programme_code"] for p in client.get(f"{registry}/programmes").json()}
        if set(codes) <= known:
            return codes
        if time.monotonic() > deadline:
            raise TimeoutError(f"the registry did not learn {sorted(set(codes) - known)}")
        time.sleep(0.3)


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="A `demo generate` output")],
    url: Annotated[str | None, typer.Option(help="Registry URL (default: the running `lindung up`)")] = None,
    allocation_url: Annotated[
        str | None, typer.Option(help="Allocation URL (default: running stack)")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write every row's result to this CSV")] = None,
) -> None:
    """Load a generated demo through the real path: programmes, P3KE import, then every list's upload."""
    registry = service_url("registry", url)
    allocation = service_url("allocation", allocation_url)
    manifest = json.loads((directory / "manifest.json").read_text())
    total = ImportOutcome()
    with api.client(timeout=httpx.Timeout(30.0, read=None)) as client:
        try:
            codes = _define_programmes(client, directory, allocation, registry)
            console.print(f"Programmes defined: {', '.join(codes)}")
            p3ke = client.post(
                f"{registry}/reference/p3ke",
                content=(directory / "p3ke.csv").read_bytes(),
                params={"source": "p3ke.csv"},
            )
            p3ke.raise_for_status()
            console.print(f"P3KE {p3ke.json()['version']}: {p3ke.json()['rows']} rows")
            with progress_bar() as progress:
                for name in manifest["files"]:
                    path = directory / name
                    programme, regency = path.parent.name, path.stem
                    total.merge(
                        upload_file(
                            client, registry, path, programme=programme, regency=regency, progress=progress
                        )
                    )
        except (httpx.HTTPError, UploadRefused, RuntimeError, TimeoutError) as exc:
            console.print(f"[red]Demo load stopped[/]: {exc}")
            raise typer.Exit(1) from exc
    console.print(summary_table(total, f"Demo {directory}"))
    rate = total.rows / total.seconds if total.seconds else 0.0
    console.print(f"{total.rows} rows uploaded in {total.seconds:.1f} s of upload time ({rate:,.0f} rows/s)")
    if output is not None:
        write_results(output, total)
        console.print(f"Per-row results in {output}")
