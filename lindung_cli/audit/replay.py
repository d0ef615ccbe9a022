"""`lindung audit replay`: rebuild a service's read models from its log in a fresh schema (rolled
back unless --keep) and compare them with the live ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from libs.events.signing import load_keyring
from libs.messaging.connection import KafkaConnection
from libs.settings import get_settings
from lindung_cli.audit.common import (
    SERVICE_HELP,
    RichProgress,
    bar,
    bootstrap,
    console,
    database_url,
    declared_read_models,
    definition,
    parse_instant,
    run,
    services,
)


def replay(
    service: Annotated[str, typer.Argument(help=SERVICE_HELP)],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Only what was applied by then (date or timestamp)")
    ] = None,
    source: Annotated[str, typer.Option(help="store (events + inbox) or kafka (topics)")] = "store",
    keep: Annotated[bool, typer.Option(help="Keep the rebuilt schema instead of dropping it")] = False,
    consumed_order: Annotated[
        str,
        typer.Option(help="kafka: which consumed envelopes were applied, in which order: inbox or handler"),
    ] = "inbox",
    one_by_one: Annotated[
        bool,
        typer.Option(
            "--one-by-one",
            help="Apply each input alone through the one-event projectors (the reference), not in batches",
        ),
    ] = False,
) -> None:
    """Rebuild a service's read models from its log in a fresh schema; compare them with the live ones."""
    names = services() if service == "all" else (service,)
    if any(n not in services() for n in names):
        raise typer.BadParameter(f"unknown service {service!r} ({SERVICE_HELP})")
    if source not in ("store", "kafka"):
        raise typer.BadParameter("--source is store or kafka")
    if consumed_order not in ("inbox", "handler"):
        raise typer.BadParameter("--consumed-order is inbox or handler")
    instant = parse_instant(as_of)
    cluster = bootstrap() if source == "kafka" else None
    raise typer.Exit(run(replay_all(names, source, instant, keep, cluster, consumed_order, one_by_one)))


async def replay_all(
    names: Sequence[str],
    source: str,
    as_of: datetime | None,
    keep: bool,
    cluster: KafkaConnection | None,
    consumed_order: str = "inbox",
    one_by_one: bool = False,
) -> int:
    """0: every table matches; 1: a mismatch, or an event the projectors cannot apply; 2: cannot run."""
    from libs.audit.replay import ReplayError
    from libs.audit.replay import replay as run_replay
    from libs.db import make_engine
    from libs.privacy.vault import operator_vault

    engine = make_engine(database_url(), pool_size=2)
    code = 0
    try:
        for name in names:
            with bar() as progress:
                try:
                    report = await run_replay(
                        engine,
                        definition(name),
                        source="kafka" if source == "kafka" else "store",
                        as_of=as_of,
                        keep=keep,
                        bootstrap=cluster,
                        read_models=declared_read_models(name),
                        consumed_order="handler" if consumed_order == "handler" else "inbox",
                        progress=RichProgress(progress),
                        # Signed events: from Kafka, only what the keyring proves (as the consumers).
                        keyring=load_keyring(get_settings().event_keyring_file),
                        # Sealed personal fields opened as the services open them (docs/security.md).
                        vault=operator_vault(get_settings()),
                        one_by_one=one_by_one,
                    )
                except ReplayError as exc:
                    console.print(f"[red]{name}: the log does not replay: {exc}[/]")
                    code = max(code, 1)
                    continue
                except (ValueError, TimeoutError) as exc:
                    console.print(f"[red]{name}: {exc}[/]")
                    code = 2
                    continue
            print_replay(report)
            code = max(code, 0 if report.matches else 1)
    finally:
        await engine.dispose()
    return code


def print_replay(report: Any) -> None:
    """The replay's report: each table's rows and hashes, live against rebuilt, and the verdict."""
    if report.compared and not report.tables:
        for note in report.notes:
            console.print(f"  note: {note}")
        console.print(f"  {report.service}: nothing to rebuild")
        return
    table = RichTable(title=f"{report.service}: replay from {report.source} into {report.fresh_schema}")
    if report.compared:
        for column in ("table", "live rows", "replay rows", "live hash", "replay hash", "result"):
            table.add_column(column, justify="right" if "rows" in column else "left")
        for t in report.tables:
            table.add_row(
                t.table,
                str(t.live_rows),
                str(t.replay_rows),
                t.live_hash[:16],
                t.replay_hash[:16],
                "[green]match[/]" if t.matches else f"[red]MISMATCH[/] ({t.differing_rows} rows)",
            )
    else:
        for column in ("table", "rows", "content hash"):
            table.add_column(column)
        for name, (rows, digest) in report.rebuilt.items():
            table.add_row(name, str(rows), digest[:16])
    console.print(table)
    for t in report.tables:
        if t.volatile:
            console.print(f"  {t.table}: volatile columns left out of the hash: {', '.join(t.volatile)}")
        if t.first_difference is not None:
            console.print(f"  [red]{t.table}: first differing row {t.first_difference.describe()}[/]")
    for note in report.notes:
        console.print(f"  note: {note}")
    console.print(
        f"  applied {report.own_events} own events + {report.consumed_envelopes} consumed envelopes "
        f"in {report.seconds:.2f} s ({report.events_per_second:,.0f} events/s, "
        + ("one by one" if report.one_by_one else f"{report.batches:,} batches")
        + "); "
        + (f"schema {report.fresh_schema} kept" if report.kept else "rebuilt schema dropped")
    )
    if report.compared:
        verdict = "[green]matches the live read models[/]" if report.matches else "[red]DOES NOT MATCH[/]"
        console.print(f"  {report.service}: {verdict}")
