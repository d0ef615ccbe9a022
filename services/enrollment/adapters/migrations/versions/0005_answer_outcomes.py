"""What BPJS's answers did, per programme (GET /enrollments/stats "answers"), durable.

Revision 0001 creates the read models present in `metadata` when it runs: the table may exist.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from alembic import op

from services.enrollment.adapters.answer_outcomes import answer_outcomes, metadata

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade(schema: str) -> None:
    metadata.create_all(op.get_bind(), tables=[answer_outcomes], checkfirst=True)


def downgrade(schema: str) -> None:
    metadata.drop_all(op.get_bind(), tables=[answer_outcomes], checkfirst=True)
