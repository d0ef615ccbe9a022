"""What every `lindung audit` command shares: where it reads, its progress bars, the read-only
session, the instants it is asked about, and exit code 2 when it cannot run."""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.messaging.connection import KafkaConnection
from libs.service_names import SERVICES
from libs.settings import get_settings

console = Console()
T = TypeVar("T")

SERVICE_HELP = f"{', '.join(SERVICES)}, or all"


class RichProgress:
    """libs.audit's Progress on a Rich progress bar."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    def start(self, description: str, total: int | None) -> None:
        self.finish()
        self.task = self.bar.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, steps)

    def finish(self) -> None:
        if self.task is not None:
            task = self.bar.tasks[self.task]
            self.bar.update(self.task, total=task.completed if task.total is None else task.total)
            self.bar.update(self.task, completed=task.total)
            self.task = None


def bar() -> Progress:
    """A progress bar on the audit's console: what, how far, how long, how long still."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def database_url(read_only: bool = False) -> str:
    """Where the audit reads: LINDUNG_AUDIT_DATABASE_URL (a SELECT-only role) for what only
    reads, else DATABASE_URL, else the running `lindung up`'s database."""
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    chosen = settings.audit_database_url if read_only else None
    url = chosen or settings.database_url or (read_runtime(settings.data_dir) or {}).get("database_url")
    if not url:
        console.print("[red]Set DATABASE_URL, or start `lindung up` first.[/]")
        raise typer.Exit(2)
    return str(url)


def keyring_file() -> Path | None:
    """LINDUNG_EVENT_KEYRING_FILE, else the development keyring of a running `lindung up`."""
    from libs.events.signing import DEV_KEYRING
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    if settings.event_keyring_file:
        return Path(settings.event_keyring_file)
    keys = (read_runtime(settings.data_dir) or {}).get("event_keys")
    return Path(keys) / DEV_KEYRING if keys else None


def bootstrap() -> KafkaConnection:
    """The Kafka cluster the audit reads topics from (settings, else the running `lindung up`)."""
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    servers = settings.kafka_bootstrap_servers or (read_runtime(settings.data_dir) or {}).get(
        "kafka_bootstrap_servers"
    )
    if not servers:
        console.print("[red]Set KAFKA_BOOTSTRAP_SERVERS, or start `lindung up` first.[/]")
        raise typer.Exit(2)
    return KafkaConnection.from_settings(settings, bootstrap=str(servers))


def services() -> tuple[str, ...]:
    """The services the audit knows (each keeps its own schema)."""
    return SERVICES


def definition(service: str) -> Any:
    """The service's definition, as its entrypoint builds it."""
    return importlib.import_module(f"services.{service}.entrypoints.app").definition()


def declared_read_models(service: str) -> Sequence[Table] | None:
    """A service's READ_MODELS when its tables module lists them (registry keeps reference data)."""
    declared = getattr(importlib.import_module(f"services.{service}.adapters.tables"), "READ_MODELS", None)
    return tuple(declared) if declared is not None else None


def events_table(service: str) -> Table:
    """The event store table of `service`."""
    events: Table = definition(service).tables.events
    return events


def parse_instant(value: str | None) -> datetime | None:
    """ISO timestamp (no offset: WIB) or a date (its last instant in WIB)."""
    from libs.audit.history import WIB, end_of_day

    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return end_of_day(date.fromisoformat(value))
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD or an ISO timestamp, got {value!r}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=WIB)


def run(coro: Awaitable[T]) -> T:
    """Run one command's work; a database that cannot be reached or read is exit code 2."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]cannot run the audit: {type(exc).__name__}: {str(exc).splitlines()[0]}[/]")
        raise typer.Exit(2) from None


async def read_only(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`work` in one READ ONLY transaction on the auditor's database."""
    from libs.audit.session import read_only as session
    from libs.db import make_engine

    engine = make_engine(database_url(read_only=True), pool_size=1)
    try:
        async with session(engine) as conn:
            return await work(conn)
    finally:
        await engine.dispose()
