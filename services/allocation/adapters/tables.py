"""The allocation schema: event store and read models (programmes, quota cells, assignments, decrees)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)
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
    Column("budget_cap", BigInteger, nullable=False),  # current cap (after BudgetChanged)
    Column("seats_total", Integer, nullable=False),  # current seats (after QuotaChanged)
    Column("assigned", Integer, nullable=False),
    Column("waitlisted", Integer, nullable=False),
    Column("requires_decree", Boolean, nullable=False),
    Column("definition", JSONB, nullable=False),  # the ProgrammeDefined payload, as defined
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
    Column("status", Text, nullable=False),  # assigned | waitlisted | released | declined
    Column("regency_code", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("decile", Integer, nullable=True),
    Column("position", Integer, nullable=True),  # waitlist position when decided
    Column("release_reason", Text, nullable=True),
    # Personal data kept for the decree annex and for promoting waitlisted workers (None: declined).
    Column("identity", JSONB, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Rank: desil (10 without a P3KE desil), nomination order (µs since 1970 UTC), decree round.
    Column("desil_rank", Integer, nullable=True),
    Column("nomination_seq", BigInteger, nullable=True),
    Column("decree_round", Integer, nullable=True),
    Column("wait_reason", Text, nullable=True),  # no_seat | no_budget, while waitlisted
    Column("decreed_in", Text, nullable=True),  # number of the decree that fixed the assignment
    Column("held_by", Text, nullable=True),  # the programme keeping a declined/released worker
    Column("unseated_by", Text, nullable=True),  # who took the seat before the decree
    Index("assignments_status_idx", "programme_code", "status", "regency_code"),
    Index("assignments_worker_idx", "worker_id"),
)

decrees = Table(
    "decrees",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("decree_number", Text, nullable=False),
    Column("decree_date", Date, nullable=False),
    Column("signer", Text, nullable=False),
    Column("list_sha256", Text, nullable=False),
    Column("worker_count", Integer, nullable=False),
    Column("total_cost", BigInteger, nullable=False),
    Column("cost_per_worker", BigInteger, nullable=False),
    Column("budget_cap", BigInteger, nullable=False),  # the cap when the decree was issued
    Column("added", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("supersedes", Text, nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("programme_code", "decree_number", name="decrees_number_uq"),
)

# The list each decree fixed ("listed"), and, for an SK perubahan, who left it ("removed").
decree_entries = Table(
    "decree_entries",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("worker_id", Text, primary_key=True),
    Column("status", Text, nullable=False),  # listed | removed
    Column("added", Boolean, nullable=False),  # listed for the first time in this version
    Column("regency_code", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("full_name", Text, nullable=False),
    Column("nik_masked", Text, nullable=False),
    Column("release_reason", Text, nullable=True),  # why a removed worker left
)
