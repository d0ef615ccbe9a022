"""`lindung audit export`: the events concerning a regency and year as JSON Lines with a manifest
(personal data masked unless --unmasked; files 0600)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.settings import get_settings
from lindung_cli.audit.common import RichProgress, bar, console, read_only, run


def export(
    regency: Annotated[str, typer.Option(help="Kemendagri code, e.g. 12.17")],
    year: Annotated[int, typer.Option(help="Fiscal (calendar) year of occurred_at, WIB")],
    out: Annotated[Path | None, typer.Option(help="Directory (default: audit-export-REGENCY-YEAR)")] = None,
    unmasked: Annotated[
        bool,
        typer.Option(
            "--unmasked",
            help="Clear NIKs, names, birth dates, places (logged, named in the manifest); default: "
            "masked, line hashes then not recomputable from the envelopes",
        ),
    ] = False,
) -> None:
    """Export the events concerning a regency and year as JSON Lines with a manifest (masked
    personal data unless --unmasked; files 0600)."""
    from libs.audit.export import export_regency_year
    from libs.privacy.vault import operator_vault

    if not re.fullmatch(r"12\.\d{2}", regency):
        raise typer.BadParameter(f"expected a North Sumatra regency code like 12.17, got {regency!r}")
    directory = out or Path(f"audit-export-{regency}-{year}")

    async def work(conn: AsyncConnection) -> Any:
        with bar() as progress:
            return await export_regency_year(
                conn,
                regency=regency,
                year=year,
                out_dir=directory,
                progress=RichProgress(progress),
                mask_personal_data=not unmasked,
                vault=operator_vault(get_settings()),  # personal fields opened before masking
            )

    if unmasked:
        console.print("[bold red]Unmasked export[/]: personal data in clear; recorded in the manifest.")
    result = run(read_only(work))
    table = RichTable(title=f"Export of regency {regency}, {year} in {directory}")
    for column in ("file", "events", "sha256"):
        table.add_column(column)
    for f in result.files:
        table.add_row(f.name, str(f.events), f.sha256)
    console.print(table)
    console.print(f"{result.total} events; manifest.json and SHA256SUMS written (sha256sum -c SHA256SUMS)")
