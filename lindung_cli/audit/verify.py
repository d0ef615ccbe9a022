"""`lindung audit verify`: walk every stream's hash chain in every service schema, and check that
every head the signed checkpoints recorded is still there unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.settings import get_settings
from lindung_cli.audit.common import RichProgress, bar, bootstrap, console, keyring_file, read_only, run
from lindung_cli.tables import print_whole


def verify(
    schema: Annotated[
        list[str] | None, typer.Option("--schema", help="Only these schemas (default: every event store)")
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            help="Signed checkpoints to check the stores against (default: LINDUNG_AUDIT_CHECKPOINT_DIR)"
        ),
    ] = None,
    keyring: Annotated[
        Path | None,
        typer.Option(
            help="Public keys the checkpoints are verified with (default: LINDUNG_EVENT_KEYRING_FILE)"
        ),
    ] = None,
    from_topic: Annotated[
        bool, typer.Option(help="Read the checkpoints from lindung.audit.checkpoints.v1 instead of files")
    ] = False,
) -> None:
    """Walk every stream's hash chain in every service schema, and check every head the signed
    checkpoints recorded is still there unchanged; exit 1 on any break or change."""
    from libs.audit.chain import event_store_schemas, verify_chains
    from libs.audit.checkpoint_store import (
        checkpoint_dir,
        checkpoint_lines,
        current_database,
        load_checkpoints,
        topic_lines,
        verify_against,
    )
    from libs.events import topics
    from libs.events.signing import Keyring

    settings = get_settings()
    directory = checkpoints or checkpoint_dir(settings)
    if from_topic:
        target = bootstrap()
        directory = Path(topics.AUDIT_CHECKPOINTS)  # named as where they came from
        lines = run(topic_lines(target))
        if keyring is None and keyring_file() is None:
            console.print(
                "[red]Checkpoints from the topic need the keyring that verifies them (--keyring).[/]"
            )
            raise typer.Exit(2)
    else:
        lines = checkpoint_lines(directory)
    keyring_path = keyring or keyring_file()
    if lines and keyring_path is None:
        if checkpoints is not None:
            console.print(
                f"[red]{directory} holds checkpoints: give the keyring that verifies them (--keyring).[/]"
            )
            raise typer.Exit(2)
        # Development (no keyring configured): said, not failed; production services require one.
        console.print(
            f"[yellow]{len(lines)} checkpoints in {directory} not checked: no keyring[/]", soft_wrap=True
        )
        lines = []
    trusted = Keyring.load(keyring_path) if lines and keyring_path is not None else None

    async def work(conn: AsyncConnection) -> Any:
        with bar() as progress:
            report = await verify_chains(conn, schema or None, RichProgress(progress))
        if trusted is None:
            return report, None, None
        loaded = load_checkpoints(lines, trusted, await current_database(conn))
        anchor = await verify_against(conn, loaded, await event_store_schemas(conn), schema or None)
        return report, loaded, anchor

    report, loaded, anchor = run(read_only(work))
    print_chains(report)
    anchored = print_anchor(directory, loaded, anchor)
    raise typer.Exit(0 if report.ok and anchored else 1)


def print_chains(report: Any) -> None:
    """The chain part of `verify`: streams, events and breaks per schema."""
    table = RichTable(title="Hash chains")
    for column in ("schema", "streams", "events", "copies checked", "breaks"):
        table.add_column(column, justify="left" if column == "schema" else "right")
    for name, events in report.events.items():
        breaks = sum(1 for b in report.breaks if b.schema == name)
        table.add_row(
            name,
            str(report.streams[name]),
            str(events),
            str(report.copies.get(name, 0)),
            f"[red]{breaks}[/]" if breaks else "0",
        )
    console.print(table)
    for found in report.breaks[:100]:
        console.print(f"[red]BREAK[/] {found.describe()}")
    if len(report.breaks) > 100:
        console.print(f"... and {len(report.breaks) - 100} more")
    console.print("[green]every chain verifies[/]" if report.ok else f"[red]{len(report.breaks)} breaks[/]")


def print_anchor(directory: Path, loaded: Any, anchor: Any) -> bool:
    """The checkpoint part of `verify`; True when nothing was found against the stores."""
    if anchor is None:
        console.print(f"no checkpoints in {directory}: the chains alone were checked")
        return True
    table = RichTable(title=f"Checkpoints ({directory})")
    for column in ("schema", "checkpoints", "heads checked", "last checkpoint", "changed streams"):
        table.add_column(column, justify="left" if column in ("schema", "last checkpoint") else "right")
    changed = anchor.changed_streams()
    for name, count in anchor.checkpoints.items():
        streams = len(changed.get(name, []))
        table.add_row(
            name,
            str(count),
            str(anchor.heads[name]),
            anchor.last[name].taken_at.isoformat(timespec="seconds"),
            f"[red]{streams}[/]" if streams else "0",
        )
    print_whole(console, table)
    if loaded.other_databases:
        console.print(f"  {loaded.other_databases} checkpoints of other databases left aside")
    for change in anchor.changes[:100]:
        console.print(
            f"[red]CHANGED[/] {change.store} stream {change.stream!r}: {change.describe()}", soft_wrap=True
        )
    for name, streams in changed.items():
        console.print(f"[red]changed after a checkpoint[/] in {name}: {', '.join(streams)}", soft_wrap=True)
    for refused in anchor.refused:
        console.print(f"[red]CHECKPOINT REFUSED[/] {refused}", soft_wrap=True)
    for problem in anchor.inconsistent:
        console.print(f"[red]CHECKPOINTS INCOMPLETE[/] {problem}", soft_wrap=True)
    if anchor.ok:
        console.print("[green]every checkpointed head is unchanged[/]")
    return bool(anchor.ok)
