"""`lindung programmes ...`: define and inspect programmes, change seats and budgets (over HTTP).

The commands talk to the allocation service: `--url`, else the address a running `lindung up`
wrote in `var/runtime.json`, else the default port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.table import Table

from libs.settings import get_settings
from lindung_cli import api
from lindung_cli.runtime_file import read_runtime
from lindung_cli.tables import print_whole

app = typer.Typer(help="Programmes, quotas and budgets.", no_args_is_help=True)
console = Console()

UrlOption = Annotated[
    str | None, typer.Option("--url", help="Allocation service URL (default: from var/runtime.json)")
]
NoteOption = Annotated[str, typer.Option(help="Reference for the change (letter, SK, APBD-P)")]


def allocation_url(url: str | None) -> str:
    """Where the allocation service answers."""
    if url:
        return url.rstrip("/")
    settings = get_settings()
    running = read_runtime(settings.data_dir) or {}
    found = (running.get("services") or {}).get("allocation")
    if found:
        return str(found).rstrip("/")
    return f"http://127.0.0.1:{settings.port_for('allocation')}"


def fail(message: str) -> NoReturn:
    console.print(f"[red]{message}[/]")
    raise typer.Exit(1)


def call(method: str, url: str | None, path: str, **kwargs: Any) -> httpx.Response:
    """One request to allocation; a refusal prints its code and message and exits 1."""
    base = allocation_url(url)
    try:
        answer = api.request(method, f"{base}{path}", timeout=120, **kwargs)
    except httpx.HTTPError as exc:
        fail(
            f"Layanan alokasi di {base} tidak dapat dihubungi ({type(exc).__name__}). Jalankan `lindung up`?"
        )
    if answer.status_code >= 400:
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = answer.text
        if isinstance(detail, dict):
            fail(f"{detail.get('code')}: {detail.get('message')}")
        fail(f"HTTP {answer.status_code}: {detail}")
    return answer


def rp(amount: int) -> str:
    return f"Rp{amount:,}".replace(",", ".")


def n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def print_budget(budget: dict[str, Any]) -> None:
    table = Table(title="Anggaran", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rows = (
        ("Pagu", rp(budget["budget_cap"])),
        ("Biaya per pekerja", rp(budget["cost_per_worker"])),
        ("Kursi", n(budget["seats_total"])),
        ("Biaya kuota", rp(budget["quota_cost"])),
        ("Kekurangan pagu", rp(budget["shortfall"])),
        ("Sisa pagu atas biaya kuota", rp(budget["quota_headroom"])),
        ("Pekerja yang dapat dibiayai", n(budget["affordable_workers"])),
        ("Pekerja mendapat kuota", n(budget["committed_workers"])),
        ("Terpakai", rp(budget["committed_rupiah"])),
        ("Sisa pagu", rp(budget["headroom"])),
    )
    for label, value in rows:
        table.add_row(label, value)
    print_whole(console, table)
    for flag in budget.get("flags", []):
        console.print(f"[yellow]{flag['code']}[/]: {flag['message']}")


@app.command()
def define(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)], url: UrlOption = None
) -> None:
    """Define a programme from its YAML file (see docs/examples/)."""
    answer = call(
        "POST", url, "/programmes", content=file.read_bytes(), headers={"content-type": "application/yaml"}
    )
    body = answer.json()
    state = "ditetapkan" if body["created"] else "sudah ada (definisi sama)"
    console.print(f"Program [bold]{body['programme_code']}[/] {state}.")
    print_budget(body)


@app.command("list")
def list_programmes(url: UrlOption = None) -> None:
    """Programmes with seats, assignments and budget."""
    table = Table(title="Program")
    for column in ("kode", "tahun", "pendana", "kursi", "mendapat kuota", "menunggu", "pagu", "kekurangan"):
        table.add_column(column, justify="left" if column in ("kode", "pendana") else "right")
    for p in call("GET", url, "/programmes").json():
        b = p["budget"]
        table.add_row(
            p["programme_code"],
            str(p["year"]),
            p["funder"],
            n(p["seats_total"]),
            n(p["assigned"]),
            n(p["waitlisted"]),
            rp(b["budget_cap"]),
            rp(b["shortfall"]),
        )
    print_whole(console, table)


@app.command()
def show(code: str, url: UrlOption = None) -> None:
    """One programme: budget, quota use per regency and sector, decrees."""
    p = call("GET", url, f"/programmes/{code}").json()
    decree = "perlu SK" if p["requires_decree"] else "tanpa SK"
    console.print(
        f"[bold]{p['programme_code']}[/] {p['name']}\n{p['funder']}, wilayah {p['jurisdiction']}, "
        f"cakupan {p['coverage_start']} s.d. {p['coverage_end']}, {decree}"
    )
    print_budget(p["budget"])
    cells = Table(title="Kuota per kabupaten/kota dan sektor")
    for column in ("kab/kota", "sektor", "kursi", "mendapat kuota", "menunggu", "kosong", "lebih"):
        cells.add_column(column, justify="left" if column in ("kab/kota", "sektor") else "right")
    for c in call("GET", url, f"/programmes/{code}/quotas").json():
        cells.add_row(
            c["regency_code"],
            c["sector"],
            n(c["seats"]),
            n(c["assigned"]),
            n(c["waitlisted"]),
            n(c["free"]),
            n(c["over_assigned"]),
        )
    console.print(cells)
    for d in p["decrees"]:
        console.print(
            f"SK v{d['version']} {d['decree_number']} ({d['decree_date']}): {n(d['worker_count'])} pekerja, "
            f"{rp(d['total_cost'])}, +{d['added']} -{d['removed']}"
        )


def _print_change(body: dict[str, Any]) -> None:
    if not body["changed"]:
        console.print("Tidak ada perubahan.")
        return
    console.print(f"Dicatat: {', '.join(body['events'])}")
    if body["promoted"]:
        console.print(f"Naik dari daftar tunggu: {len(body['promoted'])} pekerja")
    if body.get("budget"):
        print_budget(body["budget"])


@app.command("set-seats")
def set_seats(
    code: str, regency: str, sector: str, seats: int, note: NoteOption = "", url: UrlOption = None
) -> None:
    """Raise or cut the seats of one regency and sector (a cut unassigns nobody)."""
    answer = call(
        "PUT", url, f"/programmes/{code}/quotas/{regency}/{sector}", json={"seats": seats, "note": note}
    )
    _print_change(answer.json())


@app.command("move-seats")
def move_seats(
    code: str,
    from_regency: str,
    from_sector: str,
    to_regency: str,
    to_sector: str,
    seats: int,
    note: NoteOption = "",
    url: UrlOption = None,
) -> None:
    """Move seats from one regency (or sector) to another."""
    body = {
        "from_regency": from_regency,
        "from_sector": from_sector,
        "to_regency": to_regency,
        "to_sector": to_sector,
        "seats": seats,
        "note": note,
    }
    _print_change(call("POST", url, f"/programmes/{code}/quotas/move", json=body).json())


@app.command("set-budget")
def set_budget(code: str, budget_cap: int, note: NoteOption = "", url: UrlOption = None) -> None:
    """Set the budget cap in whole rupiah (a cut unassigns nobody)."""
    _print_change(
        call("PUT", url, f"/programmes/{code}/budget", json={"budget_cap": budget_cap, "note": note}).json()
    )


@app.command()
def waitlist(code: str, regency: str | None = None, url: UrlOption = None) -> None:
    """Waiting workers in the order seats will go to them."""
    params = {"regency": regency} if regency else {}
    body = call("GET", url, f"/programmes/{code}/waitlist", params=params).json()
    table = Table(title=f"Daftar tunggu ({n(body['total'])})")
    for column in ("urutan", "di sel", "worker id", "kab/kota", "sektor", "desil", "alasan"):
        table.add_column(column)
    for i in body["items"]:
        table.add_row(
            str(i["position"]),
            str(i["position_in_cell"]),
            i["worker_id"],
            i["regency_code"],
            i["sector"],
            str(i["desil"]),
            i["reason"] or "",
        )
    print_whole(console, table)
