"""Rebuild a service's read models from its log into a fresh schema and compare them with the live ones.

How the rebuild writes elsewhere without changing the service's code: the fresh schema gets an
empty copy of each table of the service's schema but the event store (`CREATE TABLE fresh.t
(LIKE live.t INCLUDING ALL)`), and the connection that runs the service's own projector functions
carries `schema_translate_map={"<service schema>": "<fresh schema>"}`, so every statement they
issue against their tables lands in the fresh schema.

Two connections, two transactions:

- the *reader* is the auditor's read-only snapshot (libs.audit.session.read_only): it reads the
  log (store source) and the live read models, all as of one instant;
- the *writer* creates and fills the fresh schema. Unless `keep` is asked for, its transaction is
  rolled back at the end: the fresh schema never becomes visible and nothing stays behind.

Compared: every rebuilt table, or, when the service declares its read models, those plus any
other table the replay filled (the rest, e.g. imported reference data, is named in a note).
With `as_of`, only inputs applied at or before that instant are replayed (events.recorded_at,
inbox.consumed_at); the live tables hold the present, so no comparison is made then (keep the
schema to query the past state).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.audit.apply import BATCH, apply_guarded
from libs.audit.apply import ReplayError as ReplayError  # raised here; callers catch it from here
from libs.audit.compare import TableComparison, compare_table, table_digest, volatile_columns
from libs.audit.kafka_source import InboxEntry, KafkaInputs, kafka_inputs
from libs.audit.progress import NO_PROGRESS, Progress
from libs.audit.session import quoted, read_only
from libs.audit.source import Applied, consumed_envelopes, count_inputs, in_applied_order, own_events
from libs.events.signing import Keyring
from libs.eventstore.store import Projector, no_projection
from libs.messaging.kafka import Target
from libs.privacy.envelopes import open_envelopes
from libs.privacy.vault import KeyVault
from libs.runtime.service import ServiceDefinition

Source = Literal["store", "kafka"]
ConsumedOrder = Literal["inbox", "handler"]


@dataclass
class ReplayReport:
    """What a replay applied, where it wrote, and how each table compares with the live one."""

    service: str
    source: Source
    fresh_schema: str
    kept: bool
    as_of: datetime | None
    own_events: int = 0
    consumed_envelopes: int = 0
    # How the inputs were applied: one by one (the reference), or in batches of consecutive
    # inputs of one log through the batch projectors; how many batches (or single inputs) ran.
    one_by_one: bool = False
    batches: int = 0
    # Applying the inputs (store: reading pages included); Kafka's upfront fetch apart.
    seconds: float = 0.0
    read_seconds: float = 0.0
    tables: list[TableComparison] = field(default_factory=list)
    # Rows and content hash per table when nothing is compared (as_of).
    rebuilt: dict[str, tuple[int, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return self.own_events + self.consumed_envelopes

    @property
    def events_per_second(self) -> float:
        return self.applied / self.seconds if self.seconds > 0 else 0.0

    @property
    def compared(self) -> bool:
        return self.as_of is None

    @property
    def matches(self) -> bool:
        return all(t.matches for t in self.tables)

    @property
    def first_mismatch(self) -> TableComparison | None:
        return next((t for t in self.tables if not t.matches), None)


def is_projecting(projector: Projector) -> bool:
    """False for the runtime's default projector (which does nothing)."""
    return projector is not no_projection


def rebuildable_tables(definition: ServiceDefinition) -> list[Table]:
    """Every table of the service's schema except the event-store tables (created empty in the
    fresh schema, so the projectors may write wherever they write live); none when the service
    projects nothing (its other tables are handler state, e.g. the BPJS simulator's participants),
    nor a table marked `info={"handler_state": True}` (counters no event records)."""
    if not (is_projecting(definition.projector) or is_projecting(definition.consumed_projector)):
        return []
    store = definition.tables
    own = {t.name for t in store.all()}
    metadata = store.events.metadata
    return [
        t
        for t in metadata.sorted_tables
        if t.schema == store.schema and t.name not in own and not t.info.get("handler_state")
    ]


def declared_read_models(
    definition: ServiceDefinition, declared: Sequence[Table] | None = None
) -> frozenset[str] | None:
    """Names of the tables the service declares as read models (`declared`, else a `read_models`
    attribute of the definition), or None when it declares nothing (then every table is one)."""
    found = declared if declared is not None else getattr(definition, "read_models", None)
    return None if found is None else frozenset(t.name for t in found)


def fresh_schema_name(schema: str, now: datetime | None = None) -> str:
    """`<schema>_replay_<UTC timestamp>_<random>` (PostgreSQL names stop at 63 bytes)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dt%H%M%S")
    return f"{schema}_replay_{stamp}_{secrets.token_hex(2)}"[:63]


async def _create_fresh(writer: AsyncConnection, live: str, fresh: str, tables: Iterable[Table]) -> None:
    await writer.execute(text(f"CREATE SCHEMA {quoted(fresh)}"))
    for table in tables:
        await writer.execute(
            text(f"CREATE TABLE {quoted(fresh, table.name)} (LIKE {quoted(live, table.name)} INCLUDING ALL)")
        )


async def _has_rows(conn: AsyncConnection, schema: str, table: Table) -> bool:
    found = await conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {quoted(schema, table.name)})"))
    return bool(found.scalar_one())


async def _inbox_lookup(reader: AsyncConnection, definition: ServiceDefinition) -> dict[str, InboxEntry]:
    inbox = definition.tables.inbox
    rows = await reader.execute(
        select(inbox.c.event_id, inbox.c.position, inbox.c.consumed_at, inbox.c.outcome)
    )
    return {str(r.event_id): InboxEntry(r.position, r.consumed_at, r.outcome) for r in rows}


async def _listed(items: Sequence[Applied]) -> AsyncIterator[Applied]:
    for item in items:
        yield item


async def replay(
    engine: AsyncEngine,
    definition: ServiceDefinition,
    *,
    source: Source = "store",
    as_of: datetime | None = None,
    keep: bool = False,
    bootstrap: Target | None = None,
    read_models: Sequence[Table] | None = None,
    extra_volatile: Mapping[str, Iterable[str]] | None = None,
    fresh_schema: str | None = None,
    consumed_order: ConsumedOrder = "inbox",
    progress: Progress = NO_PROGRESS,
    keyring: Keyring | None = None,
    vault: KeyVault | None = None,
    one_by_one: bool = False,
    batch_size: int = BATCH,
) -> ReplayReport:
    """Rebuild `definition`'s read models from its log and compare them with the live tables.

    From Kafka with a `keyring`, only records whose signature proves their producer count. With
    a `vault` (the privacy master key) sealed personal fields are opened as the services open them.
    Inputs are applied in batches through the service's batch projectors (libs/audit/apply.py),
    or `one_by_one` through its one-event projectors (the reference the batches must equal)."""
    if source == "kafka" and as_of is not None:
        raise ValueError("--as-of needs the application times only the store holds (use --source store)")
    if source == "kafka" and not bootstrap:
        raise ValueError("replaying from Kafka needs the bootstrap servers")
    tables = rebuildable_tables(definition)
    declared = declared_read_models(definition, read_models)
    schema = definition.tables.schema
    fresh = fresh_schema or fresh_schema_name(schema)
    extra = extra_volatile or {}
    report = ReplayReport(definition.name, source, fresh, keep, as_of, one_by_one=one_by_one)
    if not tables:
        report.notes.append(f"{definition.name} projects no read models: nothing to rebuild")
        return report
    with_consumed = is_projecting(definition.consumed_projector) and definition.handler is not None
    async with read_only(engine) as reader, engine.connect() as writer:
        await writer.begin()
        try:
            await _create_fresh(writer, schema, fresh, tables)
            await writer.execution_options(schema_translate_map={schema: fresh})
            if source == "kafka":
                assert bootstrap is not None
                progress.start(f"{definition.name}: reading Kafka", None)
                reading = time.perf_counter()
                lookup = await _inbox_lookup(reader, definition) if consumed_order == "inbox" else None
                found = await kafka_inputs(
                    bootstrap,
                    producer=definition.name,
                    consumes=definition.consumes if with_consumed else (),
                    interested=definition.handler.interested if definition.handler else frozenset(),
                    inbox=lookup if with_consumed else None,
                    keyring=keyring,
                )
                report.notes += _kafka_notes(found)
                report.read_seconds = time.perf_counter() - reading
                progress.finish()
                progress.start(f"{definition.name}: replaying from Kafka", len(found.inputs))
                opened = await open_envelopes(reader, vault, [item.envelope for item in found.inputs])
                listed = [
                    dataclasses.replace(a, envelope=e) for a, e in zip(found.inputs, opened, strict=True)
                ]

                def inputs() -> AsyncIterator[Applied]:
                    return _listed(listed)
            else:
                own_total, consumed_total = await count_inputs(
                    reader, definition.tables, as_of=as_of, with_consumed=with_consumed
                )
                progress.start(f"{definition.name}: replaying from the store", own_total + consumed_total)

                def inputs() -> AsyncIterator[Applied]:
                    return in_applied_order(
                        own_events(reader, definition.tables, as_of=as_of, vault=vault),
                        consumed_envelopes(reader, definition.tables, as_of=as_of, vault=vault)
                        if with_consumed
                        else None,
                    )

            started = time.perf_counter()
            applied = await apply_guarded(
                writer,
                definition,
                inputs,
                progress,
                live_schema=schema,
                one_by_one=one_by_one,
                size=batch_size,
            )
            report.seconds = time.perf_counter() - started
            report.own_events, report.consumed_envelopes = applied.own, applied.consumed
            report.batches = applied.batches
            report.notes += applied.notes
            progress.finish()
            progress.start(f"{definition.name}: comparing tables", len(tables))
            for table in tables:
                progress.advance()
                if (
                    declared is not None
                    and table.name not in declared
                    and not await _has_rows(writer, fresh, table)
                ):
                    report.notes.append(
                        f"{table.name}: not a declared read model and not projected: not compared"
                    )
                    continue
                volatile = volatile_columns(table, extra.get(table.name, ()))
                if as_of is None:
                    report.tables.append(
                        await compare_table(
                            table, live=(reader, schema), replay=(writer, fresh), extra_volatile=volatile
                        )
                    )
                else:
                    digest = await table_digest(writer, fresh, table, volatile)
                    report.rebuilt[table.name] = (len(digest.rows), digest.content_hash)
            progress.finish()
        except BaseException:
            await writer.rollback()
            raise
        if keep:
            await writer.commit()
        else:
            await writer.rollback()  # the fresh schema was never committed: nothing to drop
    return report


def _kafka_notes(found: KafkaInputs) -> list[str]:
    notes = [
        f"Kafka: {found.own} own events, {found.consumed} consumed envelopes applied; left out "
        f"{found.duplicates} repeats, {found.not_interested} of types the handler ignores, "
        f"{found.parked} parked, {found.undecodable} undecodable, {found.not_in_inbox} not applied (yet)"
    ]
    if found.refused:
        notes.append(f"Kafka: {found.refused} records left out: no signature proves their producer")
    return notes + list(found.notes)
