"""The key vault: per-person data keys (deletable) and the tombstones of forgettings.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from alembic import op

from libs.privacy.vault import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    metadata.create_all(op.get_bind())


def downgrade(schema: str) -> None:
    metadata.drop_all(op.get_bind())
