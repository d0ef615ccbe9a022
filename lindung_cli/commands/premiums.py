"""`lindung premiums ...` commands: the month's bill per funder and regency, through enrollment's HTTP.

The enrollment service is found at `--url`, else in `var/runtime.json` of a running `lindung up`,
else at its default port.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.table import Table

from libs.settings import get_settings
from libs.wording import rupiah
from lindung_cli import api
from lindung_cli.runtime_file import read_runtime
from lindung_cli.tables import print_whole

app = typer.Typer(help="Monthly premium bills and payments.", no_args_is_help=True)
console = Console()

UrlOption = Annotated[
    str | None, typer.Option("--url", help="Enrollment service URL (default: the running stack)")
]
ProgrammeOption = Annotated[str, typer.Option("--programme", "-p", help="Programme code, e.g. SUMUT-2025")]
MonthOption = Annotated[str, typer.Option("--month", "-m", help="Month billed, YYYY-MM")]


def enrollment_url(url: str | None) -> str:
    """`url`, else enrollment's address in the running stack's runtime.json, else the default port."""
    if url:
        return url.rstrip("/")
    settings = get_settings()
    services = (read_runtime(settings.data_dir) or {}).get("services", {})
    if "enrollment" in services:
        return str(services["enrollment"]).rstrip("/")
    return f"http://127.0.0.1:{settings.port_for('enrollment')}"


def _fail(answer: httpx.Response) -> NoReturn:
    try:
        detail = answer.json().get("detail", answer.text)
    except ValueError:
        detail = answer.text
    if isinstance(detail, dict):
        console.print(f"[red]{detail.get('code', answer.status_code)}[/]: {detail.get('message', detail)}")
    else:
        console.print(f"[red]{answer.status_code}[/]: {detail}")
    raise typer.Exit(1)


def _unreachable(base: str, exc: httpx.TransportError) -> NoReturn:
    console.print(
        f"[red]Layanan enrollment tidak dapat dihubungi di {base}[/] ({type(exc).__name__}): "
        "jalankan `lindung up` atau beri --url."
    )
    raise typer.Exit(2)


def print_bill(summary: dict[str, Any]) -> None:
    table = Table(title=f"Tagihan iuran {summary['programme_code']} bulan {summary['month']}")
    for column in ("funder", "regency", "workers", "JKK", "JKM", "total", "paid", "bills"):
        table.add_column(column, justify="left" if column in ("funder", "regency", "bills") else "right")
    for line in summary["lines"]:
        statuses = [b["status"] for b in line["bills"]]
        table.add_row(
            line["funder"],
            line["regency_code"],
            str(line["workers"]),
            rupiah(line["jkk_total"]),
            rupiah(line["jkm_total"]),
            rupiah(line["total"]),
            rupiah(line["paid_total"]),
            ", ".join(
                f"{statuses.count(s)} {s}" for s in ("paid", "requested", "failed") if statuses.count(s)
            ),
        )
    t = summary["totals"]
    table.add_row(
        "[bold]total[/]",
        "",
        str(t["workers"]),
        rupiah(t["jkk_total"]),
        rupiah(t["jkm_total"]),
        rupiah(t["total"]),
        rupiah(t["paid_total"]),
        "",
    )
    print_whole(console, table)


def wait_settled(
    client: httpx.Client, base: str, programme: str, month: str, timeout_s: float
) -> dict[str, Any]:
    """Poll the month's bill until BPJS answered every line (or the timeout passes)."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = client.get(f"{base}/premiums/bills", params={"programme": programme, "month": month})
        if answer.status_code != 200:
            _fail(answer)
        summary: dict[str, Any] = answer.json()
        if summary["settled"] or time.monotonic() > deadline:
            return summary
        time.sleep(0.5)


@app.command("bill")
def bill(
    programme: ProgrammeOption,
    month: MonthOption,
    url: UrlOption = None,
    wait: Annotated[bool, typer.Option(help="Wait until BPJS confirmed (or refused) every line")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for BPJS")] = 120.0,
) -> None:
    """Bill a month: workers × (JKK + JKM) per funder and regency, paid to BPJS; PremiumPaid on
    confirmation. Billing a month again bills only workers not billed for it yet."""
    base = enrollment_url(url)
    try:
        with api.client(timeout=60.0) as client:
            answer = client.post(f"{base}/premiums/bills", json={"programme_code": programme, "month": month})
            if answer.status_code != 201:
                _fail(answer)
            summary = answer.json()
            created = summary["created"]
            console.print(f"{len(created)} new bill line(s) for {programme} {month}")
            if wait and not summary["settled"]:
                summary = wait_settled(client, base, programme, month, timeout)
    except httpx.TransportError as exc:
        _unreachable(base, exc)
    print_bill(summary)
    if not summary["settled"]:
        console.print("[yellow]BPJS has not answered every line yet; see `lindung premiums show`.[/]")
    elif summary["bills"]["failed"]:
        console.print("[red]Some lines were refused by BPJS: bill the month again once fixed.[/]")


@app.command("show")
def show(programme: ProgrammeOption, month: MonthOption, url: UrlOption = None) -> None:
    """The month's bill per funder and regency, with payment status."""
    base = enrollment_url(url)
    try:
        with api.client(timeout=60.0) as client:
            answer = client.get(f"{base}/premiums/bills", params={"programme": programme, "month": month})
    except httpx.TransportError as exc:
        _unreachable(base, exc)
    if answer.status_code != 200:
        _fail(answer)
    print_bill(answer.json())


@app.command("lapses")
def lapses(url: UrlOption = None) -> None:
    """Record the coverage lapses in force today (months unpaid past the grace period)."""
    base = enrollment_url(url)
    try:
        with api.client(timeout=300.0) as client:
            answer = client.post(f"{base}/coverage/lapses")
    except httpx.TransportError as exc:
        _unreachable(base, exc)
    if answer.status_code != 200:
        _fail(answer)
    body = answer.json()
    console.print(f"{body['recorded']} lapse(s) recorded as of {body['as_of']}")
