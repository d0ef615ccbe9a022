"""Figures per kecamatan: `kecamatan_code` on nominations and placements.

Revision 0001 creates the read models present in `metadata` when it runs, so on a fresh database
all of this exists already: every step here is idempotent. Nominations seen before this revision
stay under "kecamatan tidak diketahui" (their minimised inbox copies hold no NIK to read it from);
placements take theirs from the desa code they kept.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    for table in ("nominations", "placements"):
        op.execute(f'ALTER TABLE "{schema}".{table} ADD COLUMN IF NOT EXISTS kecamatan_code text')
    op.execute(
        f'CREATE INDEX IF NOT EXISTS dashboard_nominations_worker_idx ON "{schema}".nominations '
        "(programme_code, worker_id)"
    )
    op.execute(
        f'UPDATE "{schema}".placements SET kecamatan_code = substr(desa_code, 1, 8) '
        "WHERE desa_code IS NOT NULL AND kecamatan_code IS NULL"
    )


def downgrade(schema: str) -> None:
    op.execute(f'DROP INDEX IF EXISTS "{schema}".dashboard_nominations_worker_idx')
    for table in ("nominations", "placements"):
        op.execute(f'ALTER TABLE "{schema}".{table} DROP COLUMN IF EXISTS kecamatan_code')
