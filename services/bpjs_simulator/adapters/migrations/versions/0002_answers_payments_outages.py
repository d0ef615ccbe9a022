"""Held answers (delays, repeats, outages), premium payments, the control row.

Revision 0001 creates the read models present in `metadata` when it runs, so on a fresh database
these tables exist already: every step here is idempotent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

from services.bpjs_simulator.adapters.tables import (
    answered,
    control,
    held_messages,
    metadata,
    paid_months,
    payments,
    payments_seq,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_TABLES = [answered, held_messages, payments, paid_months, control]


def upgrade(schema: str) -> None:
    bind = op.get_bind()
    payments_seq.create(bind, checkfirst=True)
    metadata.create_all(bind, tables=NEW_TABLES, checkfirst=True)


def downgrade(schema: str) -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=NEW_TABLES, checkfirst=True)
    payments_seq.drop(bind, checkfirst=True)
