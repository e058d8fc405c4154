"""submission.manual_pending: cells still waiting for a person, for the grading list

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:00:00.000000

The studio's manual-grading list sorts and pages on this count in SQL. The backfill counts,
for each submission that needs a person, its cells with ``needs_manual_grade`` whose grade id
has no row in ``manual_grade`` yet: what the list used to compute in Python.

Plain ``op`` calls rather than ``batch_alter_table``: SQLite adds and drops a column in place
(3.35 and later), whereas a batch would copy the table and drop the old one, which with
foreign keys on deletes the manual grades and regrades that cascade from it.
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Submissions read, counted and written back per round trip.
BATCH = 1000

submission = sa.table(
    'submission',
    sa.column('id', sa.Integer()),
    sa.column('needs_manual_grade', sa.Boolean()),
    sa.column('result', sa.JSON()),
    sa.column('manual_pending', sa.Integer()),
)
manual_grade = sa.table(
    'manual_grade',
    sa.column('submission_id', sa.Integer()),
    sa.column('grade_id', sa.String()),
)


def upgrade() -> None:
    op.add_column('submission', sa.Column('manual_pending', sa.Integer(),
                                          server_default='0', nullable=False))
    _backfill(op.get_bind())
    op.create_index('ix_submission_manual_queue', 'submission',
                    ['item_id', 'needs_manual_grade', 'status', 'manual_pending',
                     'submitted_at', 'id'], unique=False)


def _waiting(cells, graded) -> int:
    return sum(1 for cell in cells or []
               if isinstance(cell, dict) and cell.get('needs_manual_grade')
               and str(cell.get('grade_id')) not in graded)


def _backfill(conn) -> None:
    last = 0
    while True:
        rows = conn.execute(
            sa.select(submission.c.id, submission.c.result)
            .where(submission.c.needs_manual_grade.is_(True), submission.c.id > last)
            .order_by(submission.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        graded: dict[int, set[str]] = {}
        for submission_id, grade_id in conn.execute(
                sa.select(manual_grade.c.submission_id, manual_grade.c.grade_id)
                .where(manual_grade.c.submission_id.in_([r.id for r in rows]))):
            graded.setdefault(submission_id, set()).add(grade_id)
        counts = [{'sid': r.id, 'pending': _waiting(r.result, graded.get(r.id, set()))}
                  for r in rows]
        counts = [c for c in counts if c['pending']]
        if counts:
            conn.execute(submission.update()
                         .where(submission.c.id == sa.bindparam('sid'))
                         .values(manual_pending=sa.bindparam('pending')), counts)


def downgrade() -> None:
    op.drop_index('ix_submission_manual_queue', table_name='submission')
    op.drop_column('submission', 'manual_pending')
