"""Ranks and cross-programme facts on assignments; decrees and their lists.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Revision 0001 creates the read models from the current table definitions, so on a fresh database
these exist already: every statement here is idempotent.
"""

from alembic import op

from services.allocation.adapters.tables import decree_entries, decrees

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = {
    "desil_rank": "integer",
    "nomination_seq": "bigint",
    "decree_round": "integer",
    "wait_reason": "text",
    "decreed_in": "text",
    "held_by": "text",
    "unseated_by": "text",
}


def upgrade(schema: str) -> None:
    for column, kind in _COLUMNS.items():
        op.execute(f'ALTER TABLE "{schema}".assignments ADD COLUMN IF NOT EXISTS {column} {kind}')
    op.execute(f'ALTER TABLE "{schema}".assignments ALTER COLUMN identity DROP NOT NULL')
    op.execute(f'CREATE INDEX IF NOT EXISTS assignments_worker_idx ON "{schema}".assignments (worker_id)')
    bind = op.get_bind()
    decrees.metadata.create_all(bind, tables=[decrees, decree_entries], checkfirst=True)


def downgrade(schema: str) -> None:
    bind = op.get_bind()
    decrees.metadata.drop_all(bind, tables=[decree_entries, decrees], checkfirst=True)
    op.execute(f'DROP INDEX IF EXISTS "{schema}".assignments_worker_idx')
    for column in _COLUMNS:
        op.execute(f'ALTER TABLE "{schema}".assignments DROP COLUMN IF EXISTS {column}')
