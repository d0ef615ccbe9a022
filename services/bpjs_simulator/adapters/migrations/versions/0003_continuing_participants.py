"""Continuing participants: payers (one accepted registration each), deregistrations, and
participants preloaded from before Lindung (no payer yet).

Revision 0001 creates the read models present in `metadata` when it runs, so on a fresh database
these tables exist already: every step here is idempotent. Registrations accepted before this
revision become payers under the request id enrollment gives them (`{worker_id}:{programme}`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from alembic import op

from services.bpjs_simulator.adapters.tables import deregistrations, metadata, payers

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_TABLES = [payers, deregistrations]
NOW_OPTIONAL = ("worker_id", "programme_code", "coverage_end")


def upgrade(schema: str) -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=NEW_TABLES, checkfirst=True)
    for column in NOW_OPTIONAL:
        op.execute(f'ALTER TABLE "{schema}".participants ALTER COLUMN {column} DROP NOT NULL')
    op.execute(
        f"""
        INSERT INTO "{schema}".payers
            (request_id, nik, kpj, worker_id, programme_code, first_day, coverage_end, registered_at)
        SELECT worker_id || ':' || programme_code, nik, kpj, worker_id, programme_code,
               (registered_at AT TIME ZONE 'Asia/Jakarta')::date, coverage_end, registered_at
        FROM "{schema}".participants
        WHERE worker_id IS NOT NULL AND programme_code IS NOT NULL AND coverage_end IS NOT NULL
        ON CONFLICT (request_id) DO NOTHING
        """
    )


def downgrade(schema: str) -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=NEW_TABLES, checkfirst=True)
    op.execute(
        f'DELETE FROM "{schema}".participants '
        "WHERE worker_id IS NULL OR programme_code IS NULL OR coverage_end IS NULL"
    )
    for column in NOW_OPTIONAL:
        op.execute(f'ALTER TABLE "{schema}".participants ALTER COLUMN {column} SET NOT NULL')
