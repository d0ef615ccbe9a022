"""Enrollment's coverage facts (enrolled, paid, restored, lapsed, ended, membership ended).

Revision 0001 creates the read models present in `metadata` when it runs, so on a fresh database
this table exists already: the step is idempotent. On a database migrated before, the facts
start with the events consumed from now on (claims judged earlier keep their flags).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from alembic import op

from services.claims.adapters.tables import coverage_facts, metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    metadata.create_all(op.get_bind(), tables=[coverage_facts], checkfirst=True)


def downgrade(schema: str) -> None:
    metadata.drop_all(op.get_bind(), tables=[coverage_facts], checkfirst=True)
