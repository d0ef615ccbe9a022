"""Every stage in view: village caps and desa of seats, lapses ever and memberships ended,
premiums by funder, and the bills (PremiumBilled).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    op.add_column("programmes", sa.Column("village_cap", sa.Integer, nullable=True), schema=schema)
    for column in (
        sa.Column("ever_lapsed", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("membership_ended_on", sa.Date, nullable=True),
        sa.Column("desa_code", sa.Text, nullable=True),
    ):
        op.add_column("placements", column, schema=schema)
    op.execute(f"UPDATE {schema}.placements SET ever_lapsed = true WHERE lapsed_on IS NOT NULL")
    op.add_column(
        "premiums", sa.Column("funder", sa.Text, nullable=False, server_default=sa.text("''")), schema=schema
    )
    op.create_table(
        "bills",
        sa.Column("bill_id", sa.Text, primary_key=True),
        sa.Column("programme_code", sa.Text, nullable=False),
        sa.Column("regency_code", sa.Text, nullable=False),
        sa.Column("month", sa.Text, nullable=False),
        sa.Column("funder", sa.Text, nullable=False),
        sa.Column("workers", sa.Integer, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        schema=schema,
    )
    op.create_index(
        "dashboard_bills_programme_idx", "bills", ["programme_code", "regency_code"], schema=schema
    )


def downgrade(schema: str) -> None:
    op.drop_table("bills", schema=schema)
    op.drop_column("premiums", "funder", schema=schema)
    for name in ("desa_code", "membership_ended_on", "ever_lapsed"):
        op.drop_column("placements", name, schema=schema)
    op.drop_column("programmes", "village_cap", schema=schema)
