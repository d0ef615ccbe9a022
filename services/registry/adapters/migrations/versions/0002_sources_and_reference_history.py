"""Nomination sources (submitted_by, source_ref), correction count; reference version sequence and hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Revision 0001 creates the read models from the current table definitions, so on a fresh database
these columns exist already: every statement here is idempotent (IF NOT EXISTS).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    op.execute(f'ALTER TABLE "{schema}".nominations ADD COLUMN IF NOT EXISTS submitted_by text')
    op.execute(f'ALTER TABLE "{schema}".nominations ADD COLUMN IF NOT EXISTS source_ref text')
    op.execute(
        f'ALTER TABLE "{schema}".nominations ADD COLUMN IF NOT EXISTS corrections integer NOT NULL DEFAULT 0'
    )
    op.execute(
        f'CREATE INDEX IF NOT EXISTS nominations_source_idx ON "{schema}".nominations '
        "(submitted_by, source_ref)"
    )
    op.execute(
        f'ALTER TABLE "{schema}".reference_versions '
        "ADD COLUMN IF NOT EXISTS sequence integer NOT NULL DEFAULT 0"
    )
    op.execute(f'ALTER TABLE "{schema}".reference_versions ADD COLUMN IF NOT EXISTS sha256 text')


def downgrade(schema: str) -> None:
    op.execute(f'DROP INDEX IF EXISTS "{schema}".nominations_source_idx')
    for column in ("submitted_by", "source_ref", "corrections"):
        op.execute(f'ALTER TABLE "{schema}".nominations DROP COLUMN IF EXISTS {column}')
    for column in ("sequence", "sha256"):
        op.execute(f'ALTER TABLE "{schema}".reference_versions DROP COLUMN IF EXISTS {column}')
