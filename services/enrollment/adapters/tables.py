"""The enrollment schema: event store and the registrations read model."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, Table, Text

from libs.eventstore.tables import eventstore_tables

SCHEMA = "enrollment"
metadata = MetaData(schema=SCHEMA)
eventstore = eventstore_tables(metadata, SCHEMA)

registrations = Table(
    "registrations",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("programme_code", Text, primary_key=True),
    Column("request_id", Text, nullable=False, unique=True),
    Column("status", Text, nullable=False),  # requested | enrolled | failed
    Column("attempts", Integer, nullable=False),
    Column("kpj", Text, nullable=True, unique=True),
    Column("funder", Text, nullable=False),
    Column("regency_code", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("nik_masked", Text, nullable=False),
    Column("coverage_start", Date, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("reason_code", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("registrations_status_idx", "programme_code", "status", "regency_code"),
)
