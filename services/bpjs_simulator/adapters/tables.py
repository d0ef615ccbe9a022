"""The simulator's own schema: what the pretend insurer remembers about its participants."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from libs.eventstore.tables import eventstore_tables

SCHEMA = "bpjs_simulator"
metadata = MetaData(schema=SCHEMA)
eventstore = eventstore_tables(metadata, SCHEMA)

participants = Table(
    "participants",
    metadata,
    # KPJ numbers come from this sequence: unique even with several simulator instances.
    Column("seq", BigInteger, Sequence("participants_seq", schema=SCHEMA), primary_key=True),
    Column("nik", Text, nullable=False, unique=True),
    Column("kpj", Text, nullable=False, unique=True),
    Column("worker_id", Text, nullable=False),
    Column("programme_code", Text, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

payments_seq = Sequence("payments_seq", schema=SCHEMA, metadata=metadata)

# One row per request attempt answered: a re-delivered request is answered once.
answered = Table(
    "answered",
    metadata,
    Column("kind", Text, nullable=False),  # registration | payment
    Column("request_id", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("decision", Text, nullable=False),  # accepted | rejected | confirmed
    Column("reason_code", Text, nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("kind", "request_id", "attempt", name="answered_pk"),
)

# Answers decided but not yet sent: released to the event store (and so the outbox) once due
# and no outage is in force. `copy` > 1 marks a deliberate repeat of the same answer.
held_messages = Table(
    "held_messages",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("stream", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("causation_id", Uuid, nullable=True),
    Column("copy", Integer, nullable=False, server_default=text("1")),
    Column("late", Integer, nullable=False, server_default=text("0")),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("held_messages_due_idx", "due_at", "id", postgresql_where=text("released_at IS NULL")),
)

# Final decisions on payment requests: a re-sent request gets the same answer.
payments = Table(
    "payments",
    metadata,
    Column("payment_request_id", Text, primary_key=True),
    Column("outcome", Text, nullable=False),  # confirmed | rejected
    Column("payment_ref", Text, nullable=True, unique=True),
    Column("reason_code", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("kpjs", JSONB, nullable=False),
    Column("month", Text, nullable=False),
    Column("participants", Integer, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
)

# Which participant's month is paid, by which payment: a month is paid once.
paid_months = Table(
    "paid_months",
    metadata,
    Column("kpj", Text, nullable=False),
    Column("month", Text, nullable=False),
    Column("payment_request_id", Text, nullable=False),
    PrimaryKeyConstraint("kpj", "month", name="paid_months_pk"),
)

# The control panel: one row (id 1). During an outage the simulator neither consumes nor answers.
control = Table(
    "control",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("outage_until", DateTime(timezone=True), nullable=True),
    Column("outages", Integer, nullable=False, server_default=text("0")),
)
