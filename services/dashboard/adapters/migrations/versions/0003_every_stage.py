"""Every stage in view: village caps and desa of seats, lapses ever and memberships ended,
premiums by funder, and the bills (PremiumBilled).

Revision 0001 creates the read models present in `metadata` when it runs, so on a fresh database
all of this exists already: every step here is idempotent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from alembic import op

from services.dashboard.adapters.tables import bills, metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    ("programmes", "village_cap", "integer"),
    ("placements", "ever_lapsed", "boolean NOT NULL DEFAULT false"),
    ("placements", "membership_ended_on", "date"),
    ("placements", "desa_code", "text"),
    ("placements", "waitlist_reason", "text"),
    ("premiums", "funder", "text NOT NULL DEFAULT ''"),
)


def upgrade(schema: str) -> None:
    for table, column, kind in NEW_COLUMNS:
        op.execute(f'ALTER TABLE "{schema}".{table} ADD COLUMN IF NOT EXISTS {column} {kind}')
    # A coverage lapsed now has lapsed (a replay of the inbox sets the others).
    op.execute(f'UPDATE "{schema}".placements SET ever_lapsed = true WHERE lapsed_on IS NOT NULL')
    metadata.create_all(op.get_bind(), tables=[bills], checkfirst=True)


def downgrade(schema: str) -> None:
    metadata.drop_all(op.get_bind(), tables=[bills], checkfirst=True)
    for table, column, _ in NEW_COLUMNS:
        op.execute(f'ALTER TABLE "{schema}".{table} DROP COLUMN IF EXISTS {column}')
