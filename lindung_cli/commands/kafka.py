"""`lindung kafka ...`: a secured Apache Kafka cluster's principals, SCRAM users, ACLs and topics.

`setup` connects as the cluster's admin (the LINDUNG_KAFKA_* settings, docs/kafka.md) and makes
what is missing; `acls` prints the table it applies, derived from libs/events/topics.py.
Exit codes: 0 done, 2 cannot run (settings, connection, authorisation).
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from libs.events.topics import all_topic_names
from libs.messaging.connection import KafkaConnection, KafkaSettingsError
from libs.messaging.kafka import ensure_topics, topic_configs_of
from libs.settings import get_settings
from lindung_cli.kafka_acls import acl_table, markdown, principals, regency_codes, rows
from lindung_cli.kafka_setup import KafkaAdmin, SetupError, read_credentials, setup_cluster

app = typer.Typer(help="Secured Apache Kafka: principals, SCRAM users, ACLs, topics.", no_args_is_help=True)
console = Console()


class Format(StrEnum):
    table = "table"
    markdown = "markdown"


@app.command("acls")
def acls(
    format: Annotated[Format, typer.Option("--format", help="table, or markdown for docs")] = Format.table,
) -> None:
    """Every principal and what it may write, read and which consumer groups it may use."""
    table = acl_table(bpjs_producers=get_settings().bpjs_producers)
    if format is Format.markdown:
        print(markdown(table), end="")
        return
    shown = Table(title=f"Kafka ACLs ({len(table)} ALLOW rules; * = prefix)")
    for column in ("principal", "writes", "reads", "groups"):
        shown.add_column(column, overflow="fold")
    for row in rows(table):
        shown.add_row(row.principal, "\n".join(row.writes), "\n".join(row.reads), "\n".join(row.groups))
    console.print(shown)


@app.command("setup")
def setup(
    credentials: Annotated[
        Path | None,
        typer.Option(help="YAML or JSON mapping principal → password (principals absent get no user)"),
    ] = None,
    prune: Annotated[
        bool, typer.Option(help="Delete ACLs of Lindung's principals that the table no longer has")
    ] = False,
) -> None:
    """As the admin: SCRAM-SHA-512 users, the ACLs and the topics (only what is missing)."""
    settings = get_settings()
    table = acl_table(bpjs_producers=settings.bpjs_producers)
    try:
        connection = KafkaConnection.from_settings(settings)
        known = principals(regency_codes(), settings.bpjs_producers)
        passwords = read_credentials(credentials, known) if credentials else {}
    except (KafkaSettingsError, SetupError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None

    def create_topics() -> None:
        try:
            asyncio.run(
                ensure_topics(
                    connection,
                    all_topic_names(),
                    settings.topic_partitions,
                    settings.topic_replication,
                    configs=topic_configs_of(settings),
                )
            )
        except KafkaError as exc:
            raise SetupError(f"cannot create the topics: {exc}") from exc

    admin = KafkaAdmin(connection.librdkafka_config(), connection.username or "an anonymous client")
    try:
        report = setup_cluster(admin, passwords, table, create_topics, prune=prune)
    except SetupError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"Kafka at {connection.bootstrap}, as {admin.who}:")
    console.print(f"  users created: {', '.join(report.users_created) or '-'}")
    console.print(f"  users whose password was set again: {', '.join(report.users_updated) or '-'}")
    if report.without_user:
        absent = ", ".join(report.without_user)
        console.print(f"  principals without a user (not in the credentials): {absent}")
    console.print(f"  ACLs: {report.acls_created} created, {report.acls_present} already present")
    if report.acls_extra:
        verb = "removed" if prune else "not in the table (kept; --prune removes them)"
        console.print(f"  {len(report.acls_extra)} ACLs of Lindung's principals {verb}:")
        for grant in report.acls_extra:
            g = grant
            console.print(f"    {g.principal} {g.operation} {g.resource} {g.name} ({g.pattern})")
    console.print(
        f"  topics: {len(report.topics_created)} created, {report.topics_present} already present "
        f"({settings.topic_partitions} partitions for new ones)"
    )
