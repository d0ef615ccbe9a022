"""Schema creation helpers used by every service's first Alembic revision."""

from __future__ import annotations

from sqlalchemy import Connection, MetaData, Table, text

from libs.eventstore.tables import EventStoreTables, eventstore_tables

_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.events_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the event store of {schema} is append-only (% refused)', TG_OP;
END $$ LANGUAGE plpgsql
"""
_APPEND_ONLY_TRIGGER = """
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {schema}.events
  FOR EACH ROW EXECUTE FUNCTION {schema}.events_append_only()
"""
# TRUNCATE fires no row trigger: a statement-level one refuses it (the same function raises).
TRUNCATE_GUARD = "events_no_truncate"
_TRUNCATE_TRIGGER = """
CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {schema}.events
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.events_append_only()
"""


def create_eventstore(bind: Connection, schema: str) -> None:
    """Create the event store, outbox, inbox and dead-letter tables of `schema`."""
    metadata = MetaData()
    tables = eventstore_tables(metadata, schema)
    metadata.create_all(bind, tables=tables.all())
    # Edits must go through new events; a trigger makes the intent explicit at the database.
    bind.execute(text(_APPEND_ONLY_FUNCTION.format(schema=schema)))
    bind.execute(text(_APPEND_ONLY_TRIGGER.format(schema=schema)))


def guard_truncate(bind: Connection, schema: str) -> None:
    """Refuse TRUNCATE on `schema`.events (a revision of every service adds it to existing stores).

    Only the table's owner can switch it off (`ALTER TABLE ... DISABLE TRIGGER`), deliberately."""
    bind.execute(text(f"DROP TRIGGER IF EXISTS {TRUNCATE_GUARD} ON {schema}.events"))
    bind.execute(text(_TRUNCATE_TRIGGER.format(schema=schema, trigger=TRUNCATE_GUARD)))


def unguard_truncate(bind: Connection, schema: str) -> None:
    """Undo guard_truncate."""
    bind.execute(text(f"DROP TRIGGER IF EXISTS {TRUNCATE_GUARD} ON {schema}.events"))


def drop_eventstore(bind: Connection, schema: str) -> None:
    """Drop what create_eventstore made."""
    metadata = MetaData()
    tables = eventstore_tables(metadata, schema)
    metadata.drop_all(bind, tables=tables.all())
    bind.execute(text(f"DROP FUNCTION IF EXISTS {schema}.events_append_only()"))


def _read_models(metadata: MetaData, eventstore: EventStoreTables) -> list[Table]:
    return [t for t in metadata.sorted_tables if t not in eventstore.all()]


def create_service_schema(
    bind: Connection, schema: str, metadata: MetaData, eventstore: EventStoreTables
) -> None:
    """A service's first revision: its event-sourcing tables and the read models on `metadata`."""
    create_eventstore(bind, schema)
    metadata.create_all(bind, tables=_read_models(metadata, eventstore))


def drop_service_schema(
    bind: Connection, schema: str, metadata: MetaData, eventstore: EventStoreTables
) -> None:
    """Undo create_service_schema."""
    metadata.drop_all(bind, tables=_read_models(metadata, eventstore))
    drop_eventstore(bind, schema)
