"""`lindung audit checkpoint`: a signed checkpoint of every stream's head, appended to the
checkpoint files that `lindung audit verify` checks the stores against."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.settings import get_settings
from lindung_cli.audit.common import console, read_only, run
from lindung_cli.tables import print_whole


def checkpoint(
    schema: Annotated[
        list[str] | None, typer.Option("--schema", help="Only these schemas (default: every event store)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory of the checkpoint files (default: LINDUNG_AUDIT_CHECKPOINT_DIR)"),
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option(help="Ed25519 private key (default: LINDUNG_EVENT_SIGNING_KEY_FILE)")
    ] = None,
    key_id: Annotated[
        str | None, typer.Option(help="Its keyring id (default: LINDUNG_EVENT_SIGNING_KEY_ID)")
    ] = None,
    producer: Annotated[
        str, typer.Option(help="Who signs: the producer the key speaks for in the keyring")
    ] = "auditor",
) -> None:
    """Take a signed checkpoint of every stream's head now, appended to the checkpoint files."""
    from libs.audit.chain import event_store_schemas
    from libs.audit.checkpoint import Checkpointer
    from libs.audit.checkpoint_store import append_line, checkpoint_dir, current_database, take
    from libs.events.signing import load_signer

    settings = get_settings()
    chosen_file = str(key_file) if key_file else settings.event_signing_key_file
    try:
        signer = load_signer(chosen_file, key_id or settings.event_signing_key_id)
    except (OSError, ValueError) as exc:
        console.print(f"[red]cannot load the signing key: {exc}[/]")
        raise typer.Exit(2) from None
    if signer is None:
        console.print("[red]A checkpoint is signed: give --key-file and --key-id.[/]")
        raise typer.Exit(2)
    directory = out or checkpoint_dir(settings)

    async def work(conn: AsyncConnection) -> Any:
        database = await current_database(conn)
        taken = []
        for store in schema or await event_store_schemas(conn):
            taken.append(await take(conn, Checkpointer(database, store, producer), signer))
        return taken

    table = RichTable(title=f"Checkpoints appended to {directory}")
    for column in ("schema", "streams", "root", "checkpoint"):
        table.add_column(column)
    for taken, signed in run(read_only(work)):
        append_line(directory, taken.store, signed)
        table.add_row(taken.store, str(taken.streams), taken.root[:16], taken.checkpoint_id)
    print_whole(console, table)
