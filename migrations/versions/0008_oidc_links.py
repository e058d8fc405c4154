"""oidc_link: accounts at OpenID providers that sign in; person.iin_verified_by/_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 02:51:19.607703

Plain ``op.add_column`` on ``person`` rather than ``batch_alter_table``: a batch copies the
table, and ``user`` refers to it. Existing IINs stay unverified (NULL): they were typed.
"""

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oidc_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', lms.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_oidc_link_user_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_link')),
        sa.UniqueConstraint('provider', 'subject', name=op.f('uq_oidc_link_provider_subject')),
        sa.UniqueConstraint('user_id', 'provider', name=op.f('uq_oidc_link_user_id_provider')),
    )
    op.create_index(op.f('ix_oidc_link_user_id'), 'oidc_link', ['user_id'], unique=False)
    op.add_column('person', sa.Column('iin_verified_by', sa.String(length=40), nullable=True))
    op.add_column('person', sa.Column('iin_verified_at', lms.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('person', 'iin_verified_at')
    op.drop_column('person', 'iin_verified_by')
    op.drop_index(op.f('ix_oidc_link_user_id'), table_name='oidc_link')
    op.drop_table('oidc_link')
