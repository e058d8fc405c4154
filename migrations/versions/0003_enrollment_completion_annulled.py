"""enrollment.completion_annulled_at: an annulled completion satisfies no prerequisite

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 23:31:53.621529

Learning decides prerequisites from its own enrolments; statistics tell it of an annulment
through ``lms.events.completion_annulled``. The backfill copies the date of each annulment
recorded so far onto the enrolment of that account and course.

A plain ``op.add_column`` rather than ``batch_alter_table``: a batch copies the table, and
with foreign keys on, deleting the old ``enrollment`` would cascade into progress rows.
"""

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'enrollment', sa.Column('completion_annulled_at', lms.db.UTCDateTime(), nullable=True)
    )
    op.execute(
        """
        UPDATE enrollment SET completion_annulled_at = (
            SELECT MIN(correction.created_at) FROM correction
            JOIN completion ON completion.id = correction.completion_id
            WHERE correction.kind = 'annulled'
              AND completion.user_id = enrollment.user_id
              AND completion.course_id = enrollment.course_id
        )
        WHERE EXISTS (
            SELECT 1 FROM correction
            JOIN completion ON completion.id = correction.completion_id
            WHERE correction.kind = 'annulled'
              AND completion.user_id = enrollment.user_id
              AND completion.course_id = enrollment.course_id
        )
        """
    )


def downgrade() -> None:
    op.drop_column('enrollment', 'completion_annulled_at')
