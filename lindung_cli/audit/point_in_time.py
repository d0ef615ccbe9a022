"""`lindung audit beneficiaries | coverage | quota`: what the state was at a past instant, from
the services' events alone, judged by the services' own rules."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table as RichTable
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.settings import Settings, get_settings
from lindung_cli.audit.common import console, events_table, parse_instant, read_only, run

if TYPE_CHECKING:
    from lindung_cli.audit.coverage import CoverageRule
    from services.enrollment.domain.coverage import CoveragePolicy


def beneficiaries(
    programme: Annotated[str, typer.Argument(help="Programme code, e.g. SUMUT-2025")],
    on: Annotated[str | None, typer.Option(help="The list at the end of this day (WIB) or instant")] = None,
    list_out: Annotated[Path | None, typer.Option(help="Write the canonical list to this file")] = None,
    decrees: Annotated[bool, typer.Option(help="Check every decree's frozen list")] = False,
) -> None:
    """The beneficiary list as it stood at an instant, from allocation's events; decrees checked."""
    from libs.audit.history import events_until
    from lindung_cli.audit.beneficiaries import beneficiaries, canonical_list, decree_checks, list_sha256
    from lindung_cli.audit.programme import PROGRAMME_TYPES

    instant = parse_instant(on)
    table = events_table("allocation")

    async def work(conn: AsyncConnection) -> Any:
        return await events_until(conn, table, types=PROGRAMME_TYPES, until=instant)

    envelopes = run(read_only(work))
    listed = beneficiaries(envelopes, programme)
    when = instant.isoformat() if instant else "now"
    console.print(f"{programme} as of {when}: {len(listed)} beneficiaries, list sha256 {list_sha256(listed)}")
    if list_out is not None:
        list_out.write_bytes(canonical_list(listed))
        console.print(f"canonical list written to {list_out} (check: sha256sum {list_out})")
    ok = True
    if decrees:
        checks = decree_checks(envelopes, programme)
        if not checks:
            console.print("no decree (DecreeIssued) recorded for this programme")
        for check in checks:
            verdict = "[green]matches[/]" if check.matches else "[red]DIFFERS[/]"
            console.print(
                f"decree {check.decree_number} v{check.decree_version} of {check.decree_date}: {verdict} "
                f"(recorded {check.recorded_count} / {check.recorded_sha256[:16]}, "
                f"from events {check.computed_count} / {check.computed_sha256[:16]})"
            )
            ok = ok and check.matches
    raise typer.Exit(0 if ok else 1)


def coverage_policy(settings: Settings) -> CoveragePolicy:
    """Enrollment's coverage policy as configured (grace and arrears months)."""
    from services.enrollment.domain.coverage import CoveragePolicy

    return CoveragePolicy(
        grace_months=settings.enrollment_grace_months, arrears_months=settings.enrollment_arrears_months
    )


def enrollment_rule(known_at: date | None) -> CoverageRule:
    """Enrollment's own coverage rule (its domain's ledger: paid months, grace, lapses) with the
    configured policy, counting the facts known by `known_at` (None: everything)."""
    from lindung_cli.audit.coverage import ledger_rule

    return ledger_rule(coverage_policy(get_settings()), known_at)


def coverage(
    on: Annotated[str, typer.Option(help="The day in question, YYYY-MM-DD")],
    worker_id: Annotated[str | None, typer.Option(help="The worker id")] = None,
    nik: Annotated[str | None, typer.Option(help="Or the NIK (turned into the worker id)")] = None,
    known_at: Annotated[
        str | None, typer.Option(help="What was known by then (default: the end of that day, WIB)")
    ] = None,
) -> None:
    """Whether a worker was covered on a day, from enrollment's events as known at an instant."""
    from libs.audit.history import WIB, events_until
    from libs.identity import worker_id_for
    from libs.pii import mask_nik
    from lindung_cli.audit.coverage import ENROLLMENT_TYPES, coverage_on

    if (worker_id is None) == (nik is None):
        raise typer.BadParameter("give either --worker-id or --nik")
    day = date.fromisoformat(on)
    who = worker_id or worker_id_for(nik or "", get_settings().nik_pepper)
    instant = parse_instant(known_at) or parse_instant(on)
    table = events_table("enrollment")

    async def work(conn: AsyncConnection) -> Any:
        return await events_until(conn, table, types=ENROLLMENT_TYPES, until=instant)

    rule = enrollment_rule(instant.astimezone(WIB).date() if instant else None)
    verdict = coverage_on(run(read_only(work)), who, day, rule)
    label = mask_nik(nik) if nik else who
    state = "[green]COVERED[/]" if verdict.covered else "[red]NOT COVERED[/]"
    known = instant.isoformat() if instant else "-"
    console.print(f"{label} on {day}: {state} ({verdict.reason}), as known at {known}")
    if verdict.enrollment is not None:
        e = verdict.enrollment
        console.print(
            f"  programme {e.programme_code}, KPJ {e.kpj}, window {e.coverage_start}..{e.coverage_end}, "
            f"enrolled on {e.enrolled_on}"
            + (f", last covered day before a lapse {e.lapsed_on}" if e.lapsed_on else "")
        )
    if verdict.failed_programmes:
        console.print(f"  enrollment failed under {', '.join(verdict.failed_programmes)}")


def quota(
    programme: Annotated[str, typer.Argument(help="Programme code")],
    month: Annotated[str, typer.Option(help="YYYY-MM: the position at that month's end (WIB)")],
) -> None:
    """Quota use per regency × sector and the budget position at a month end, from allocation's events."""
    from libs.audit.history import end_of_month, events_until
    from lindung_cli.audit.programme import PROGRAMME_TYPES
    from lindung_cli.audit.quota import quota_position
    from services.allocation.domain.quota_state import QuotaError

    match = re.fullmatch(r"(\d{4})-(\d{2})", month)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise typer.BadParameter(f"expected YYYY-MM, got {month!r}")
    instant = end_of_month(int(match.group(1)), int(match.group(2)))
    table = events_table("allocation")

    async def work(conn: AsyncConnection) -> Any:
        return await events_until(conn, table, types=PROGRAMME_TYPES, until=instant)

    envelopes = run(read_only(work))
    try:
        position = quota_position(envelopes, programme, instant)
    except QuotaError as exc:  # a stream allocation itself would not have written
        console.print(f"[red]{programme}: allocation's stream does not replay: {exc}[/]")
        raise typer.Exit(1) from None
    if position is None:
        console.print(f"[red]{programme} was not defined by {instant.isoformat()}[/]")
        raise typer.Exit(1)
    cells = RichTable(title=f"{programme} at {instant.isoformat()}")
    for column in ("regency", "sector", "seats", "assigned"):
        cells.add_column(column, justify="right" if column in ("seats", "assigned") else "left")
    for (regency, sector), cell in sorted(position.cells.items()):
        cells.add_row(regency, sector, str(cell.seats), str(cell.assigned))
    console.print(cells)
    console.print(
        f"seats {position.seats_total}, assigned {position.assigned}, waitlisted {position.waitlisted}; "
        f"cap Rp{position.budget_cap:,}, cost per worker Rp{position.cost_per_worker:,}, "
        f"committed Rp{position.committed_rupiah:,}, headroom Rp{position.headroom:,}"
        + (f", OVERCOMMITTED Rp{position.overcommitted:,}" if position.overcommitted else "")
    )
