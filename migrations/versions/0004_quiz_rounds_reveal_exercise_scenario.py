"""quiz rounds, reveal and exercise; question scenario

A quiz's ``max_attempts`` now make a round, and a new round opens ``retry_hours`` (24 unless
an author says otherwise) after a round's last attempt; ``reveal`` says when marks and
explanations are shown ("always", as before); ``exercise`` marks a no-code exercise. A
question's ``scenario`` marks a situation to judge. Every existing row keeps today's
behaviour through the defaults.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:38:32.257554
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite): question and others cascade from quiz.
    op.add_column(
        "question", sa.Column("scenario", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "quiz", sa.Column("retry_hours", sa.Integer(), server_default="24", nullable=False)
    )
    op.add_column(
        "quiz",
        sa.Column("reveal", sa.String(length=32), server_default="always", nullable=False),
    )
    op.add_column(
        "quiz", sa.Column("exercise", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("quiz", schema=None) as batch_op:
        batch_op.drop_column("exercise")
        batch_op.drop_column("reveal")
        batch_op.drop_column("retry_hours")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_column("scenario")
