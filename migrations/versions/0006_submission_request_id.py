"""submission.request_id: the upload's request id, carried to the worker in the logs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:42:21.301655

A plain ``op.add_column`` rather than ``batch_alter_table``: a batch copies the table, and
with foreign keys on, deleting the old ``submission`` would cascade into regrades and
manual grades. Older submissions keep no id (NULL).
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('submission', sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('submission', 'request_id')
