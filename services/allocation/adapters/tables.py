"""The allocation schema: event store and read models (programmes, quota cells, assignments)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from libs.eventstore.tables import eventstore_tables

SCHEMA = "allocation"
metadata = MetaData(schema=SCHEMA)
eventstore = eventstore_tables(metadata, SCHEMA)

programmes = Table(
    "programmes",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("funder", Text, nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("coverage_start", Date, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("cost_per_worker", BigInteger, nullable=False),
    Column("budget_cap", BigInteger, nullable=False),
    Column("seats_total", Integer, nullable=False),
    Column("assigned", Integer, nullable=False),
    Column("waitlisted", Integer, nullable=False),
    Column("requires_decree", Boolean, nullable=False),
    Column("definition", JSONB, nullable=False),
)

quota_cells = Table(
    "quota_cells",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("regency_code", Text, primary_key=True),
    Column("sector", Text, primary_key=True),
    Column("seats", Integer, nullable=False),
    Column("assigned", Integer, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("worker_id", Text, primary_key=True),
    Column("nomination_id", Text, nullable=False),
    Column("status", Text, nullable=False),  # assigned | waitlisted | released
    Column("regency_code", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("decile", Integer, nullable=True),
    Column("position", Integer, nullable=True),
    Column("release_reason", Text, nullable=True),
    # Personal data kept for the decree annex and for promoting waitlisted workers.
    Column("identity", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("assignments_status_idx", "programme_code", "status", "regency_code"),
)
