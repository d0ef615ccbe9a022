"""The registry's schema: its event store and the read models projected from it."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from libs.eventstore.tables import eventstore_tables

SCHEMA = "registry"
metadata = MetaData(schema=SCHEMA)
eventstore = eventstore_tables(metadata, SCHEMA)

nominations = Table(
    "nominations",
    metadata,
    Column("nomination_id", Text, primary_key=True),
    Column("worker_id", Text, nullable=False),
    Column("programme_code", Text, nullable=False),
    Column("regency_code", Text, nullable=False),
    Column("nik", Text, nullable=False),
    Column("full_name", Text, nullable=False),
    Column("birth_date", Date, nullable=True),  # None once the person is forgotten (0005)
    Column("sex", Text, nullable=False),
    Column("occupation", Text, nullable=False),
    Column("kecamatan", Text, nullable=False),
    Column("desa", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("decile", Integer, nullable=True),
    Column("funder", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("status", Text, nullable=False),  # pending | validated | rejected | withdrawn
    Column("reasons", JSONB, nullable=False, server_default="[]"),
    Column("poverty_source", Text, nullable=True),
    Column("reference_version", Text, nullable=True),
    Column("nominated_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Added by revision 0002: who sent it and their own id of the row (regency system, upload row).
    Column("submitted_by", Text, nullable=True),
    Column("source_ref", Text, nullable=True),
    Column("corrections", Integer, nullable=False, server_default="0"),
    # Added by revision 0003: what allocation and enrollment decided about a validated nomination
    # (None: not decided yet), see projections.SEAT_OUTCOMES; and the programme keeping the worker
    # when it was declined or released for another programme.
    Column("seat", Text, nullable=True),
    Column("held_by", Text, nullable=True),
    Index("nominations_worker_idx", "worker_id"),
    Index("nominations_worker_programme_idx", "worker_id", "programme_code"),
    Index("nominations_regency_status_idx", "regency_code", "status"),
    Index("nominations_source_idx", "submitted_by", "source_ref"),
)

programmes = Table(
    "programmes",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("funder", Text, nullable=False),
    Column("jurisdiction", Text, nullable=False),
    Column("coverage_start", Date, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

participants = Table(
    "participants",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("kpj", Text, nullable=False),
    Column("programme_code", Text, nullable=False),
    Column("coverage_end", Date, nullable=False),
    Column("active", Boolean, nullable=False),
)

# Reference extracts are keyed by worker id (HMAC of the NIK), so they hold no raw NIK. Only the
# current extract of each kind is kept; its version history is the `reference-<kind>` event stream.
reference_p3ke = Table(
    "reference_p3ke",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("decile", Integer, nullable=False),
    Column("version", Text, nullable=False),
)

reference_dtks = Table(
    "reference_dtks",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("version", Text, nullable=False),
)

reference_versions = Table(
    "reference_versions",
    metadata,
    Column("kind", Text, primary_key=True),  # p3ke | dtks
    Column("version", Text, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Added by revision 0002: projected from ReferenceDataImported (the history is the event stream).
    Column("sequence", Integer, nullable=False, server_default="0"),
    Column("sha256", Text, nullable=True),
)

READ_MODELS = (nominations, programmes, participants)
