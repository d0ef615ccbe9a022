"""A forgotten person's nominations keep no birth date (docs/security.md, "Forgetting a person").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    op.alter_column("nominations", "birth_date", nullable=True, schema=schema)


def downgrade(schema: str) -> None:
    op.alter_column("nominations", "birth_date", nullable=False, schema=schema)
