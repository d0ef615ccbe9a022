"""The dashboard schema: the inbox machinery, and read models projected from consumed events.

The dashboard has no events of its own (its `events` table stays empty): it is a projection of
the registry, allocation, enrollment and claims topics. No table holds personal data: workers
appear only by their pseudonymous worker id (HMAC of the NIK), and the inbox keeps each consumed
event reduced to its counting facts (services/dashboard/domain/facts/).
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
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
    text,
)

from libs.eventstore.tables import eventstore_tables

SCHEMA = "dashboard"
metadata = MetaData(schema=SCHEMA)
eventstore = eventstore_tables(metadata, SCHEMA)

# Latest ProgrammeDefined per programme.
programmes = Table(
    "programmes",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("funder", Text, nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("premium_jkk", BigInteger, nullable=False),
    Column("premium_jkm", BigInteger, nullable=False),
    Column("months", Integer, nullable=False),
    Column("cost_per_worker", BigInteger, nullable=False),
    Column("budget_cap", BigInteger, nullable=False),
    Column("requires_decree", Boolean, nullable=False),
    Column("coverage_start", Date, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("defined_at", DateTime(timezone=True), nullable=False),
    Column("village_cap", Integer, nullable=True),  # most seated workers per desa; None: no cap
)

# Seats per programme × regency × sector (replaced by each ProgrammeDefined).
quotas = Table(
    "quotas",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("regency_code", Text, primary_key=True),
    Column("sector", Text, primary_key=True),
    Column("seats", Integer, nullable=False),
)

# One row per nomination (registry events). Columns fill in whichever order events arrive.
nominations = Table(
    "nominations",
    metadata,
    Column("nomination_id", Text, primary_key=True),
    Column("programme_code", Text, nullable=False),
    Column("worker_id", Text, nullable=False),
    Column("regency_code", Text, nullable=False),
    Column("sector", Text, nullable=True),
    Column("outcome", Text, nullable=True),  # validated | rejected
    Column("reason_codes", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("withdrawn", Boolean, nullable=False, server_default=text("false")),
    # "12.RR.KK" from the form's desa code, else the NIK's digits 1-6 (never the NIK); None: unknown.
    Column("kecamatan_code", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("dashboard_nominations_programme_idx", "programme_code", "regency_code"),
    Index("dashboard_nominations_worker_idx", "programme_code", "worker_id"),
)

# One row per programme × worker from allocation and enrollment events.
placements = Table(
    "placements",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("worker_id", Text, primary_key=True),
    Column("regency_code", Text, nullable=True),
    Column("sector", Text, nullable=True),
    Column("quota_status", Text, nullable=True),  # assigned | waitlisted | released
    Column("waitlist_position", Integer, nullable=True),
    Column("waitlist_reason", Text, nullable=True),  # no_seat | no_budget | village_full
    Column("release_reason", Text, nullable=True),
    Column("promoted", Boolean, nullable=False, server_default=text("false")),
    Column("decree_number", Text, nullable=True),
    Column("enrolment", Text, nullable=True),  # enrolled | failed
    Column("failure_code", Text, nullable=True),
    Column("lapsed_on", Date, nullable=True),  # set while the coverage is lapsed
    Column("ever_lapsed", Boolean, nullable=False, server_default=text("false")),
    Column("membership_ended_on", Date, nullable=True),
    Column("desa_code", Text, nullable=True),  # of the seat (QuotaAssigned), for village caps
    # Of the desa an allocation event carried; None: the worker's nomination tells (views.py).
    Column("kecamatan_code", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("dashboard_placements_programme_idx", "programme_code", "regency_code"),
)

decrees = Table(
    "decrees",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("decree_number", Text, nullable=False),
    Column("decree_date", Date, nullable=False),
    Column("signer", Text, nullable=False),
    Column("worker_count", Integer, nullable=False),
    Column("total_cost", BigInteger, nullable=False),
    Column("added", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
)

# PremiumPaid: one row per payment (a payment confirmed again replaces its row).
premiums = Table(
    "premiums",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("regency_code", Text, primary_key=True),
    Column("month", Text, primary_key=True),
    Column("payment_ref", Text, primary_key=True),
    Column("funder", Text, nullable=False, server_default=text("''")),
    Column("workers", Integer, nullable=False),
    Column("jkk_total", BigInteger, nullable=False),
    Column("jkm_total", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
)

# PremiumBilled: one row per bill line (what a funder owes BPJS for a regency's month).
bills = Table(
    "bills",
    metadata,
    Column("bill_id", Text, primary_key=True),
    Column("programme_code", Text, nullable=False),
    Column("regency_code", Text, nullable=False),
    Column("month", Text, nullable=False),
    Column("funder", Text, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("total", BigInteger, nullable=False),
    Index("dashboard_bills_programme_idx", "programme_code", "regency_code"),
)

# Claims (ClaimRecorded) without KPJ or worker: the dashboard counts claims, it never lists them.
claims = Table(
    "claims",
    metadata,
    Column("claim_id", Text, primary_key=True),
    Column("programme_code", Text, nullable=True),  # None: BPJS paid someone no programme covers
    Column("regency_code", Text, nullable=True),
    Column("claim_type", Text, nullable=False),  # JKK | JKM
    Column("benefit_kind", Text, nullable=False),
    Column("incident_date", Date, nullable=False),
    Column("paid_date", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Index("dashboard_claims_programme_idx", "programme_code", "regency_code"),
)

# ClaimFlagged reasons by code, once each (a claim flagged again adds only new codes).
claim_flags = Table(
    "claim_flags",
    metadata,
    Column("claim_id", Text, primary_key=True),
    Column("code", Text, primary_key=True),
)

READ_MODELS = (programmes, quotas, nominations, placements, decrees, premiums, bills, claims, claim_flags)
