"""Releases: end of coverage on registrations, stop-payments to BPJS, programme limits; a KPJ may
be held under several programmes (continuing participants).

Revision 0001 creates the read models present in `metadata` when it runs, so on a fresh database
all of this exists already: every step here is idempotent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from alembic import op

from services.enrollment.adapters.tables import deregistrations, metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    ("registrations", "continuing", "boolean NOT NULL DEFAULT false"),
    ("registrations", "ended_on", "date"),
    ("registrations", "end_reason", "text"),
    ("registrations", "last_month_billable", "text"),
    ("programmes", "budget_cap", "bigint"),
    ("programmes", "quotas", "jsonb"),
)


def upgrade(schema: str) -> None:
    for table, column, kind in NEW_COLUMNS:
        op.execute(f'ALTER TABLE "{schema}".{table} ADD COLUMN IF NOT EXISTS {column} {kind}')
    op.execute(f'ALTER TABLE "{schema}".registrations DROP CONSTRAINT IF EXISTS registrations_kpj_key')
    op.execute(f'CREATE INDEX IF NOT EXISTS registrations_kpj_idx ON "{schema}".registrations (kpj)')
    metadata.create_all(op.get_bind(), tables=[deregistrations], checkfirst=True)


def downgrade(schema: str) -> None:
    metadata.drop_all(op.get_bind(), tables=[deregistrations], checkfirst=True)
    op.execute(f'DROP INDEX IF EXISTS "{schema}".registrations_kpj_idx')
    for table, column, _ in NEW_COLUMNS:
        op.execute(f'ALTER TABLE "{schema}".{table} DROP COLUMN IF EXISTS {column}')
