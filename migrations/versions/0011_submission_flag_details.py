"""submission.flag_details: what a flag is about (the library names the guard put back)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:20:00.000000

A plain ``op.add_column`` (see 0006: a batch copy would cascade deletes). Submissions graded
before keep NULL, shown as no details.
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('submission', sa.Column('flag_details', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('submission', 'flag_details')
