"""`lindung decrees ...`: issue a decree (SK) fixing the list, export its annex (lampiran)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lindung_cli.commands.programmes import UrlOption, call, console, n, rp
from lindung_cli.tables import print_whole

app = typer.Typer(help="Decrees (SK) fixing the beneficiary list.", no_args_is_help=True)


@app.command()
def issue(
    code: str,
    number: Annotated[str, typer.Option(help="Decree number, e.g. 188.44/123/KPTS/2026")],
    date: Annotated[str, typer.Option(help="Decree date, YYYY-MM-DD")],
    signer: Annotated[str, typer.Option(help="Who signed, e.g. 'Gubernur Sumatera Utara'")],
    kind: Annotated[
        str | None,
        typer.Option(
            help="SK_GUBERNUR, SK_BUPATI or PERKADA; checked against the programme file's decree_kind"
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Record a signed decree: freezes the assigned list; a later one is an SK perubahan."""
    request = {"number": number, "date": date, "signer": signer} | ({"kind": kind} if kind else {})
    body = call("POST", url, f"/programmes/{code}/decrees", json=request)
    d = body.json()
    first = d.get("kind", "SK")
    kind = first if d["version"] == 1 else f"{first} perubahan (v{d['version']}, atas {d['supersedes']})"
    state = "dicatat" if d["created"] else "sudah tercatat"
    console.print(f"{kind} {d['decree_number']} {state}.")
    console.print(
        f"{n(d['worker_count'])} pekerja, {rp(d['total_cost'])}; ditambahkan {n(d['added'])}, "
        f"dikeluarkan {n(d['removed'])}\nSHA-256 daftar: {d['list_sha256']}"
    )


@app.command("list")
def list_decrees(code: str, url: UrlOption = None) -> None:
    """The programme's decrees."""
    table = Table(title=f"SK program {code}")
    for column in ("versi", "nomor", "tanggal", "pekerja", "biaya", "+", "-", "SHA-256"):
        table.add_column(column, no_wrap=column in ("nomor", "tanggal", "biaya"))
    for d in call("GET", url, f"/programmes/{code}/decrees").json():
        table.add_row(
            str(d["version"]),
            d["decree_number"],
            d["decree_date"],
            n(d["worker_count"]),
            rp(d["total_cost"]),
            str(d["added"]),
            str(d["removed"]),
            d["list_sha256"][:16] + "…",
        )
    print_whole(console, table)


@app.command()
def annex(
    code: str,
    version: Annotated[str, typer.Option(help="Decree version, or 'latest'")] = "latest",
    fmt: Annotated[str, typer.Option("--format", help="pdf or csv")] = "pdf",
    out: Annotated[Path | None, typer.Option(help="Output file (default: lampiran-CODE-vN.FORMAT)")] = None,
    url: UrlOption = None,
) -> None:
    """Export a decree's annex (lampiran): per regency and sector, masked NIKs, totals, budget."""
    if fmt not in ("pdf", "csv"):
        raise typer.BadParameter("format must be pdf or csv")
    answer = call("GET", url, f"/programmes/{code}/decrees/{version}/annex.{fmt}")
    disposition = answer.headers.get("content-disposition", "")
    default = (
        disposition.split('filename="')[-1].rstrip('"') if "filename=" in disposition else f"lampiran.{fmt}"
    )
    target = out or Path(default)
    target.write_bytes(answer.content)
    console.print(f"Lampiran ditulis ke {target} ({n(len(answer.content))} bita)")
