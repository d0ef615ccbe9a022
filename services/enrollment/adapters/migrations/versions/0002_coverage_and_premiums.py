"""Retries and timeouts on registrations; programmes, bills and coverage facts.

Revision 0001 creates the read models present in `metadata` when it runs, so on a fresh database
all of this exists already: every step here is idempotent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

from services.enrollment.adapters.tables import bill_workers, bills, coverage_facts, metadata, programmes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_TABLES = [programmes, bills, bill_workers, coverage_facts]


def upgrade(schema: str) -> None:
    for column, kind in (
        ("attempt_sent_at", "timestamptz"),
        ("retry_at", "timestamptz"),
        ("enrolled_on", "date"),
    ):
        op.execute(f'ALTER TABLE "{schema}".registrations ADD COLUMN IF NOT EXISTS {column} {kind}')
    op.execute(
        f'CREATE INDEX IF NOT EXISTS registrations_waiting_idx ON "{schema}".registrations '
        "(attempt_sent_at) WHERE status = 'requested'"
    )
    metadata.create_all(op.get_bind(), tables=NEW_TABLES, checkfirst=True)


def downgrade(schema: str) -> None:
    metadata.drop_all(op.get_bind(), tables=NEW_TABLES, checkfirst=True)
    op.execute(f'DROP INDEX IF EXISTS "{schema}".registrations_waiting_idx')
    for column in ("attempt_sent_at", "retry_at", "enrolled_on"):
        op.execute(f'ALTER TABLE "{schema}".registrations DROP COLUMN IF EXISTS {column}')
