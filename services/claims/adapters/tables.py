"""The claims schema: event store, the coverage view fed by enrollment, and the claims ledger."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from libs.eventstore.tables import eventstore_tables

SCHEMA = "claims"
metadata = MetaData(schema=SCHEMA)
eventstore = eventstore_tables(metadata, SCHEMA)

# Who we paid premiums for, and when they were covered: one row per consumed EnrolledAtBPJS
# (written by the handler in the consuming transaction; the inbox keeps the input it came from).
# `worker_id` is HMAC(pepper, NIK), so a claim's NIK finds the same person under another KPJ.
# The KPJ is indexed, not unique: BPJS keeps a participant's KPJ when a later programme
# (another year, another funder) enrolls them again.
coverage = Table(
    "coverage",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("programme_code", Text, primary_key=True),
    Column("kpj", Text, nullable=False),
    Column("funder", Text, nullable=False),
    Column("regency_code", Text, nullable=False),
    Column("coverage_start", Date, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("coverage_kpj_idx", "kpj"),
)

# Enrollment's coverage facts, one row per fact and worker (a PremiumPaid names many workers):
# kind `enrolled` (day: enrolled_on), `paid` and `restored` (month; day: paid_on / restored_from),
# `lapsed` (month: first unpaid; day: last covered), `ended` (day: ended_on; reason: the release
# reason) and `membership_ended` (day: ended_on). Read back into domain.coverage's
# ProgrammeCoverage; keyed by event, so a redelivery or a replay adds nothing.
coverage_facts = Table(
    "coverage_facts",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("worker_id", Text, primary_key=True),
    Column("programme_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("month", Text, nullable=True),
    Column("day", Date, nullable=True),
    Column("reason", Text, nullable=True),
    Index("coverage_facts_worker_idx", "worker_id", "programme_code"),
)

# The claims ledger, projected from ClaimRecorded / ClaimFlagged. Never holds a NIK: `worker_id`
# is its pseudonym. `amount` is the amount first recorded; later versions of the same claim id
# show up as CLAIM_*_CHANGED flags (their details carry what BPJS reported then).
claims = Table(
    "claims",
    metadata,
    Column("claim_id", Text, primary_key=True),
    Column("worker_id", Text, nullable=True),
    Column("kpj", Text, nullable=False),
    Column("programme", Text, nullable=False),  # JKK | JKM
    Column("benefit_kind", Text, nullable=False),
    Column("incident_date", Date, nullable=False),
    Column("paid_date", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("regency_code", Text, nullable=True),
    Column("programme_code", Text, nullable=True),
    Column("flagged", Boolean, nullable=False, server_default=text("false")),
    Column("flags", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("claims_kpj_idx", "kpj"),
    Index("claims_worker_idx", "worker_id"),
    Index("claims_paid_idx", "paid_date"),
    Index("claims_programme_regency_idx", "programme_code", "regency_code"),
)
