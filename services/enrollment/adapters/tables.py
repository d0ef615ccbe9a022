"""The enrollment schema: event store and the read models projected from it.

Every read model here is rebuilt from enrollment's own events (`projections.project`), except
`programmes`, which comes from consumed ProgrammeDefined events (`project_consumed`).
"""

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
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

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
    # requested | enrolled | failed | cancelled (released before BPJS enrolled them) | ended
    # (released: withdrawn, died, ...) | membership_ended (BPU arrears ran out)
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    # Not unique: a continuing participant keeps one KPJ under successive programmes.
    Column("kpj", Text, nullable=True),
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
    # When the latest attempt was sent (its answer is due `enrollment_answer_timeout_s` later),
    # and when the next attempt is due after a retryable failure.
    Column("attempt_sent_at", DateTime(timezone=True), nullable=True),
    Column("retry_at", DateTime(timezone=True), nullable=True),
    Column("enrolled_on", Date, nullable=True),
    Column("continuing", Boolean, nullable=False, server_default=text("false")),
    # CoverageEnded: the last covered day, why, and the last month the programme owes (YYYY-MM;
    # NULL once ended: no month).
    Column("ended_on", Date, nullable=True),
    Column("end_reason", Text, nullable=True),
    Column("last_month_billable", Text, nullable=True),
    Index("registrations_kpj_idx", "kpj"),
    Index("registrations_status_idx", "programme_code", "status", "regency_code"),
    Index("registrations_waiting_idx", "attempt_sent_at", postgresql_where=text("status = 'requested'")),
)

# The programmes enrollment heard of (ProgrammeDefined): their premiums and period.
programmes = Table(
    "programmes",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("funder", Text, nullable=False),
    Column("premium_jkk", Integer, nullable=False),
    Column("premium_jkm", Integer, nullable=False),
    Column("months", Integer, nullable=False),
    Column("coverage_start", Date, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("requires_decree", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The limits a month's bill is checked against: budget cap and seats per "regency|sector"
    # (ProgrammeDefined, then QuotaChanged and BudgetChanged). NULL in rows from before 0003.
    Column("budget_cap", BigInteger, nullable=True),
    Column("quotas", JSONB, nullable=True),
)

# Stop-payments sent to BPJS (DeregistrationRequested), one per worker and programme, and BPJS's
# answer (consumed): DeregistrationConfirmed, or DeregistrationRejected (it pays for nobody there).
deregistrations = Table(
    "deregistrations",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("programme_code", Text, primary_key=True),
    Column("request_id", Text, nullable=False, unique=True),
    Column("kpj", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("last_covered_day", Date, nullable=False),
    Column("status", Text, nullable=False),  # requested | confirmed | rejected
    Column("attempts", Integer, nullable=False),
    Column("attempt_sent_at", DateTime(timezone=True), nullable=True),
    # Always NULL: an unanswered stop-payment is sent again after the answer timeout (the clock
    # treats this table as it treats registrations and bills).
    Column("retry_at", DateTime(timezone=True), nullable=True),
    Column("effective_on", Date, nullable=True),
    Column("confirmed_attempt", Integer, nullable=True),  # the attempt BPJS answered
    # DeregistrationRejected: BPJS's code and message.
    Column("refusal_code", Text, nullable=True),
    Column("refusal", Text, nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("deregistrations_waiting_idx", "attempt_sent_at", postgresql_where=text("status = 'requested'")),
)

# One row per bill line (PremiumBilled) and its payment at BPJS.
bills = Table(
    "bills",
    metadata,
    Column("bill_id", Text, primary_key=True),
    Column("programme_code", Text, nullable=False),
    Column("month", Text, nullable=False),
    Column("funder", Text, nullable=False),
    Column("regency_code", Text, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("jkk_per_worker", Integer, nullable=False),
    Column("jkm_per_worker", Integer, nullable=False),
    Column("jkk_total", BigInteger, nullable=False),
    Column("jkm_total", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("status", Text, nullable=False),  # requested | paid | failed
    Column("attempts", Integer, nullable=False),
    Column("attempt_sent_at", DateTime(timezone=True), nullable=True),
    Column("retry_at", DateTime(timezone=True), nullable=True),
    Column("payment_ref", Text, nullable=True),
    Column("paid_on", Date, nullable=True),
    Column("reason_code", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("billed_on", Date, nullable=False),
    Column("billed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("bills_month_idx", "programme_code", "month", "funder", "regency_code"),
    Index("bills_waiting_idx", "attempt_sent_at", postgresql_where=text("status = 'requested'")),
)

# Which workers a bill line lists.
bill_workers = Table(
    "bill_workers",
    metadata,
    Column("bill_id", Text, nullable=False),
    Column("worker_id", Text, nullable=False),
    Column("programme_code", Text, nullable=False),
    Column("month", Text, nullable=False),
    PrimaryKeyConstraint("bill_id", "worker_id", name="bill_workers_pk"),
    Index("bill_workers_month_idx", "programme_code", "month", "worker_id"),
)

# The facts coverage is decided from, one row per worker and fact, with the event proving it:
# kind `enrolled` (day = enrolled_on), `paid` (month, day = paid_on), `lapsed` (month = first
# unpaid month, day = recorded_on, ended_on = last covered day), `ended` (CoverageEnded: day =
# ended_on = last covered day, month = reason).
coverage_facts = Table(
    "coverage_facts",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("worker_id", Text, nullable=False),
    Column("programme_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("month", Text, nullable=True),
    Column("day", Date, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("coverage_start", Date, nullable=True),
    Column("coverage_end", Date, nullable=True),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", Text, nullable=False),
    UniqueConstraint("event_id", "worker_id", name="coverage_facts_event_worker_uq"),
    Index("coverage_facts_worker_idx", "worker_id", "programme_code"),
)
