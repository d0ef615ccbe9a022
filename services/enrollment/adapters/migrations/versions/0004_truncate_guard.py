"""The event store refuses TRUNCATE (a statement-level trigger; the row trigger cannot see it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from alembic import op

from libs.eventstore.migration import guard_truncate, unguard_truncate

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    guard_truncate(op.get_bind(), schema)


def downgrade(schema: str) -> None:
    unguard_truncate(op.get_bind(), schema)
