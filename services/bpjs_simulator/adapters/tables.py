"""The simulator's own schema: what the pretend insurer remembers about its participants."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, MetaData, Sequence, Table, Text

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
