"""What allocation and enrollment decided about each nomination (`seat`, `held_by`): the
duplicate rule counts only nominations still holding (or waiting for a decision on) a seat.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Revision 0001 creates the read models from the current table definitions, so on a fresh database
these columns exist already: every statement here is idempotent (IF NOT EXISTS).
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    op.execute(f'ALTER TABLE "{schema}".nominations ADD COLUMN IF NOT EXISTS seat text')
    op.execute(f'ALTER TABLE "{schema}".nominations ADD COLUMN IF NOT EXISTS held_by text')
    op.execute(
        f'CREATE INDEX IF NOT EXISTS nominations_worker_programme_idx ON "{schema}".nominations '
        "(worker_id, programme_code)"
    )


def downgrade(schema: str) -> None:
    op.execute(f'DROP INDEX IF EXISTS "{schema}".nominations_worker_programme_idx')
    for column in ("seat", "held_by"):
        op.execute(f'ALTER TABLE "{schema}".nominations DROP COLUMN IF EXISTS {column}')
