"""Tables every service keeps in its own schema: event store, outbox, inbox, dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB


@dataclass(frozen=True)
class EventStoreTables:
    """The event-sourcing tables of one service schema."""

    schema: str
    events: Table
    outbox: Table
    inbox: Table
    dead_letters: Table

    def all(self) -> list[Table]:
        return [self.events, self.outbox, self.inbox, self.dead_letters]


def eventstore_tables(metadata: MetaData, schema: str) -> EventStoreTables:
    """Declare the event-sourcing tables of `schema` on `metadata`."""
    events = Table(
        "events",
        metadata,
        Column("position", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("aggregate_id", Text, nullable=False),
        Column("aggregate_version", Integer, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("correlation_id", Uuid, nullable=False),
        Column("causation_id", Uuid, nullable=True),
        Column("producer", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        UniqueConstraint("aggregate_id", "aggregate_version", name="events_stream_version_uq"),
        schema=schema,
    )
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Uuid, nullable=True),
        Column("topic", Text, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Index("outbox_unsent_idx", "id", postgresql_where=text("sent_at IS NULL")),
        schema=schema,
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("position", BigInteger, Identity(always=True), nullable=False, unique=True),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        # The consumed envelope itself: the service's input log, for audits and replays.
        Column("envelope", JSONB, nullable=False),
        # "applied" or "parked" (sent to the dead-letter topic): a parked event is not input.
        Column("outcome", Text, nullable=False, server_default=text("'applied'")),
        Column("consumed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Uuid, nullable=True),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("error_type", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("topic", "partition", "offset", name="dead_letters_origin_uq"),
        schema=schema,
    )
    return EventStoreTables(schema, events, outbox, inbox, dead_letters)
