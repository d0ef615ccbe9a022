"""The `lindung` command line."""

from __future__ import annotations

import asyncio
import importlib
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from libs.messaging.connection import KafkaConnection
from libs.settings import get_settings
from lindung_cli.tables import print_whole

app = typer.Typer(
    help="Lindung: BPJS Ketenagakerjaan premium assistance for North Sumatra's vulnerable workers."
)
topics_app = typer.Typer(help="Kafka topics.")
schemas_app = typer.Typer(help="Event contracts as JSON Schema and AsyncAPI.")
app.add_typer(topics_app, name="topics")
app.add_typer(schemas_app, name="schemas")
for _name in (
    "nominations",
    "reference",
    "demo",
    "programmes",
    "decrees",
    "premiums",
    "audit",
    "bench",
    "kafka",
    "db",
    "privacy",
):
    app.add_typer(importlib.import_module(f"lindung_cli.commands.{_name}").app, name=_name)
app.add_typer(importlib.import_module("lindung_cli.commands.keys").app, name="keys")
console = Console()


def _connection() -> tuple[str, str]:
    """DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS, or those of a running `lindung up`."""
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    running = read_runtime(settings.data_dir) or {}
    database = settings.database_url or running.get("database_url")
    bootstrap = settings.kafka_bootstrap_servers or running.get("kafka_bootstrap_servers")
    if not database or not bootstrap:
        console.print("[red]Set DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS, or start `lindung up` first.[/]")
        raise typer.Exit(2)
    return database, bootstrap


def _parse_scale(values: list[str]) -> dict[str, int]:
    scale: dict[str, int] = {}
    for value in values:
        match = re.fullmatch(r"([a-z_]+)=(\d+)", value)
        if not match or int(match.group(2)) < 1:
            raise typer.BadParameter(f"expected SERVICE=N, got {value!r}")
        scale[match.group(1)] = int(match.group(2))
    return scale


@app.command()
def up(
    scale: Annotated[list[str], typer.Option(help="Instances per service, e.g. enrollment=3")] = [],  # noqa: B006
    demo: Annotated[bool, typer.Option(help="Load the demo programme and P3KE extract")] = True,
    broker: Annotated[
        str | None,
        typer.Option(
            help="Embedded broker: tansu (in memory, no Java) or kafka (Apache Kafka, data on disk;"
            " Java and Maven). Default: LINDUNG_BROKER, else tansu"
        ),
    ] = None,
) -> None:
    """Run the whole system: embedded PostgreSQL and broker (unless configured), every service."""
    from lindung_cli.kafka_broker import KafkaUnavailable
    from lindung_cli.up import run_up

    settings = get_settings()
    if broker is not None:
        if broker not in ("tansu", "kafka"):
            raise typer.BadParameter(f"expected tansu or kafka, got {broker!r}", param_hint="--broker")
        settings = settings.model_copy(update={"broker": broker})
    try:
        run_up(settings, _parse_scale(scale), demo)
    except KafkaUnavailable as exc:
        console.print(f"[red]Cannot start Apache Kafka.[/] {escape(str(exc))}.", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def status() -> None:
    """Consumer lag per group and event counts per service."""
    from lindung_cli.status import consumer_lag, event_counts

    database, bootstrap = _connection()
    lags = asyncio.run(consumer_lag(KafkaConnection.from_settings(get_settings(), bootstrap=bootstrap)))
    counts = asyncio.run(event_counts(database))
    table = Table(title="Lindung status")
    for column in ("service", "consumer lag", "events", "inbox", "outbox unsent", "dead letters"):
        table.add_column(column, justify="right" if column != "service" else "left")
    for service, row in counts.items():
        lag = lags.get(service)
        table.add_row(
            service,
            "-" if lag is None else str(lag),
            str(row["events"]),
            str(row["inbox"]),
            str(row["unsent"]),
            str(row["dead_letters"]),
        )
    print_whole(console, table)


@app.command()
def migrate() -> None:
    """Create or upgrade every service's schema (Alembic)."""
    from libs.runtime.migrate import PRIVACY_SCHEMA, SERVICES_WITH_SCHEMAS, upgrade

    settings = get_settings()
    # Migrations run as the schemas' owner; services connect as their own roles (`lindung db roles`).
    database = settings.database_owner_url or settings.database_url
    if not database:
        console.print("[red]LINDUNG_DATABASE_OWNER_URL (or DATABASE_URL) is not set.[/]")
        raise typer.Exit(2)
    for service in (PRIVACY_SCHEMA, *SERVICES_WITH_SCHEMAS):  # the key vault first
        upgrade(service, database)
        console.print(f"schema [bold]{service}[/] up to date")


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic (and dead-letter topic) with the configured partition count."""
    from libs.events.topics import all_topic_names
    from libs.messaging.kafka import ensure_topics, topic_configs_of

    settings = get_settings()
    if not settings.kafka_bootstrap_servers:
        console.print("[red]KAFKA_BOOTSTRAP_SERVERS is not set.[/]")
        raise typer.Exit(2)
    names = all_topic_names()
    asyncio.run(
        ensure_topics(
            KafkaConnection.from_settings(settings),
            names,
            settings.topic_partitions,
            settings.topic_replication,
            configs=topic_configs_of(settings),
        )
    )
    console.print(f"{len(names)} topics present, {settings.topic_partitions} partitions each for new ones")


@schemas_app.command("export")
def schemas_export(
    out: Annotated[Path, typer.Option(help="Directory for the JSON Schema files")] = Path("docs/schemas"),
    asyncapi: Annotated[Path, typer.Option(help="Where to write the AsyncAPI document")] = Path(
        "docs/asyncapi.json"
    ),
) -> None:
    """Write every contract's JSON Schema and the AsyncAPI document."""
    from libs.events.asyncapi import asyncapi_document
    from libs.events.schemas import export_schemas

    written = export_schemas(out)
    asyncapi.parent.mkdir(parents=True, exist_ok=True)
    asyncapi.write_text(asyncapi_document() + "\n")
    console.print(f"{len(written)} JSON Schema files in {out}; AsyncAPI in {asyncapi}")


if __name__ == "__main__":
    app()
