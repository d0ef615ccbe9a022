"""The simulator's own schema: what the pretend insurer remembers about its participants."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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

# One row per person BPJS knows: one KPJ per NIK, kept for life. `worker_id`, `programme_code`
# and `coverage_end` name the latest payer; a participant preloaded from before Lindung
# (`POST /control/participants`) has none until a programme takes them over.
participants = Table(
    "participants",
    metadata,
    # KPJ numbers come from this sequence: unique even with several simulator instances.
    Column("seq", BigInteger, Sequence("participants_seq", schema=SCHEMA), primary_key=True),
    Column("nik", Text, nullable=False, unique=True),
    Column("kpj", Text, nullable=False, unique=True),
    Column("worker_id", Text, nullable=True),
    Column("programme_code", Text, nullable=True),
    Column("coverage_end", Date, nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

# One row per registration accepted: a programme paying for a participant from `first_day` to
# `coverage_end`, unless a deregistration ended it (`ended_on`, the last covered day). A person
# has one active payer at a time; a re-sent request finds its row and gets the same answer.
payers = Table(
    "payers",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("nik", Text, nullable=False),
    Column("kpj", Text, nullable=False),
    Column("worker_id", Text, nullable=False),
    Column("programme_code", Text, nullable=False),
    Column("first_day", Date, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("continued", Boolean, nullable=False, server_default=text("false")),
    Column("ended_on", Date, nullable=True),
    Column("end_reason", Text, nullable=True),
    Index("payers_nik_idx", "nik"),
    Index("payers_kpj_programme_idx", "kpj", "programme_code"),
)

# Final decisions on deregistrations: a re-sent request gets the same answer.
deregistrations = Table(
    "deregistrations",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("kpj", Text, nullable=False),
    Column("worker_id", Text, nullable=False),
    Column("programme_code", Text, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("reason", Text, nullable=False),  # DeregistrationReason of the request
    Column("outcome", Text, nullable=False),  # confirmed | rejected
    Column("reason_code", Text, nullable=True),
    Column("refusal", Text, nullable=True),
)

payments_seq = Sequence("payments_seq", schema=SCHEMA, metadata=metadata)

# One row per request attempt answered: a re-delivered request is answered once.
answered = Table(
    "answered",
    metadata,
    Column("kind", Text, nullable=False),  # registration | deregistration | payment
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
