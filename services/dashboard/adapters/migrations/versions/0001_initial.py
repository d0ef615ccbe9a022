"""Inbox, outbox and dead letters (the event store stays empty) and the dashboard read models.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

from libs.eventstore.migration import create_eventstore, drop_eventstore
from services.dashboard.adapters.tables import eventstore, metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    bind = op.get_bind()
    create_eventstore(bind, schema)
    read_models = [t for t in metadata.sorted_tables if t not in eventstore.all()]
    metadata.create_all(bind, tables=read_models)


def downgrade(schema: str) -> None:
    bind = op.get_bind()
    read_models = [t for t in metadata.sorted_tables if t not in eventstore.all()]
    metadata.drop_all(bind, tables=read_models)
    drop_eventstore(bind, schema)
