"""open_data_snapshot: published public tables, one row per version, served by every node

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'open_data_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('extracted_at', sa.DateTime(), nullable=False),
        sa.Column('license', sa.String(length=32), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('csv_sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('package', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_open_data_snapshot')),
        sa.UniqueConstraint(
            'dimension', 'period', 'version',
            name=op.f('uq_open_data_snapshot_dimension_period_version'),
        ),
    )
    op.create_index(
        op.f('ix_open_data_snapshot_dimension'), 'open_data_snapshot', ['dimension'], unique=False
    )
    op.create_index(
        op.f('ix_open_data_snapshot_period'), 'open_data_snapshot', ['period'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_open_data_snapshot_period'), table_name='open_data_snapshot')
    op.drop_index(op.f('ix_open_data_snapshot_dimension'), table_name='open_data_snapshot')
    op.drop_table('open_data_snapshot')
