"""Event store, outbox, inbox, dead letters and the claims read models (coverage, claims).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

from libs.eventstore.migration import create_service_schema, drop_service_schema
from services.claims.adapters.tables import eventstore, metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    create_service_schema(op.get_bind(), schema, metadata, eventstore)


def downgrade(schema: str) -> None:
    drop_service_schema(op.get_bind(), schema, metadata, eventstore)
