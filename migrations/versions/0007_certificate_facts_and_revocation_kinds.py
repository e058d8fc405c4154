"""certificate: the facts stated at issue, re-issue, revocation kinds, stored credential

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 03:00:00

Each certificate now keeps what it says: the holder's name, the course title in the
language of study, the tier, that language and the day of completion, copied at issue
(existing rows are filled from the account, the course and the completion as they are
now; a deleted account leaves the name empty). A completion may have several
certificates (``replaced_by_id`` points from an old one to its re-issue), so the unique
constraint on ``completion_id`` becomes a plain index. The free-text ``revoke_reason``
becomes ``revoke_kind`` (a fixed list) and ``revoke_note`` (the admin's words, internal):
"holder's account deleted" and the "completion annulled: " prefix map to their kinds,
any other text to "issued in error" with the text kept as the note. Certificates that
were shown revoked only at read time (deleted account, annulled completion) are marked.

``batch_alter_table`` copies ``certificate`` on SQLite; no table references it (but
itself, from this revision on), so nothing cascades. Downgrading keeps only the current
certificate of each completion (the replaced ones are deleted) and folds kind and note
back into one text.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ACCOUNT_DELETED = "holder's account deleted"
ANNULLED_PREFIX = "completion annulled: "

certificate = sa.table(
    'certificate',
    sa.column('id', sa.Integer),
    sa.column('completion_id', sa.Integer),
    sa.column('revoked_at', lms.db.UTCDateTime()),
    sa.column('revoke_reason', sa.String),
    sa.column('revoke_kind', sa.String),
    sa.column('revoke_note', sa.String),
    sa.column('holder_name', sa.String),
    sa.column('course_title', sa.Text),
    sa.column('tier', sa.String),
    sa.column('language', sa.String),
    sa.column('completed_on', sa.Date),
    sa.column('replaced_by_id', sa.Integer),
)
completion = sa.table(
    'completion',
    sa.column('id', sa.Integer),
    sa.column('user_id', sa.Integer),
    sa.column('course_id', sa.Integer),
    sa.column('tier', sa.String),
    sa.column('language', sa.String),
    sa.column('day', sa.Date),
    sa.column('completed_at', lms.db.UTCDateTime()),
)
course = sa.table(
    'course',
    sa.column('id', sa.Integer),
    sa.column('slug', sa.String),
    sa.column('title', sa.JSON),
    sa.column('languages', sa.JSON),
)
user = sa.table('user', sa.column('id', sa.Integer), sa.column('full_name', sa.String))
correction = sa.table(
    'correction',
    sa.column('id', sa.Integer),
    sa.column('completion_id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('reason', sa.String),
    sa.column('created_at', lms.db.UTCDateTime()),
)


def _title(titles: dict[str, str] | None, languages: list[str] | None, language: str, slug: str) -> str:
    titles = titles or {}
    for candidate in (language, *(languages or [])):
        if titles.get(candidate):
            return titles[candidate]
    return next((text for text in titles.values() if text), slug)


def _kind(reason: str | None) -> tuple[str, str | None]:
    reason = (reason or '').strip()
    if reason == ACCOUNT_DELETED:
        return 'account_deleted', None
    if reason.lower().startswith(ANNULLED_PREFIX):
        return 'completion_annulled', reason[len(ANNULLED_PREFIX):].strip() or None
    return 'issued_in_error', reason or None


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('course_title', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('tier', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('completed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revoke_kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('revoke_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('credential', sa.Text(), nullable=True))
        batch_op.drop_constraint('uq_certificate_completion_id', type_='unique')
        batch_op.create_index(
            batch_op.f('ix_certificate_completion_id'), ['completion_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_certificate_replaced_by_id_certificate'),
            'certificate',
            ['replaced_by_id'],
            ['id'],
        )

    bind = op.get_bind()
    annulled: dict[int, Any] = {}
    for row in bind.execute(
        sa.select(correction.c.completion_id, correction.c.reason, correction.c.created_at)
        .where(correction.c.kind == 'annulled')
        .order_by(correction.c.id)
    ):
        annulled.setdefault(row.completion_id, row)
    rows = bind.execute(
        sa.select(
            certificate.c.id,
            certificate.c.revoked_at,
            certificate.c.revoke_reason,
            completion.c.id.label('completion_id'),
            completion.c.tier,
            completion.c.language,
            completion.c.day,
            completion.c.completed_at,
            completion.c.user_id,
            course.c.slug,
            course.c.title,
            course.c.languages,
            user.c.full_name,
        )
        .select_from(certificate)
        .join(completion, completion.c.id == certificate.c.completion_id)
        .join(course, course.c.id == completion.c.course_id)
        .outerjoin(user, user.c.id == completion.c.user_id)
    ).all()
    for row in rows:
        values: dict[str, Any] = {
            'holder_name': row.full_name if row.user_id is not None else None,
            'course_title': _title(row.title, row.languages, row.language, row.slug),
            'tier': row.tier,
            'language': row.language,
            'completed_on': row.day,
        }
        if row.revoked_at is not None:
            values['revoke_kind'], values['revoke_note'] = _kind(row.revoke_reason)
        elif row.user_id is None:
            values.update(revoke_kind='account_deleted', revoked_at=row.completed_at)
        elif row.completion_id in annulled:
            found = annulled[row.completion_id]
            values.update(
                revoke_kind='completion_annulled',
                revoke_note=found.reason,
                revoked_at=found.created_at,
            )
        bind.execute(certificate.update().where(certificate.c.id == row.id).values(**values))

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('course_title', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('tier', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('language', existing_type=sa.String(length=2), nullable=False)
        batch_op.alter_column('completed_on', existing_type=sa.Date(), nullable=False)
        batch_op.drop_column('revoke_reason')


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoke_reason', sa.String(length=500), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            certificate.c.id,
            certificate.c.completion_id,
            certificate.c.revoke_kind,
            certificate.c.revoke_note,
            certificate.c.replaced_by_id,
        ).order_by(certificate.c.id)
    ).all()
    replaced = [row.id for row in rows if row.replaced_by_id is not None]
    if replaced:
        bind.execute(certificate.update().values(replaced_by_id=None))
        bind.execute(certificate.delete().where(certificate.c.id.in_(replaced)))
    for row in rows:
        if row.replaced_by_id is not None or row.revoke_kind is None:
            continue
        if row.revoke_kind == 'account_deleted':
            reason = ACCOUNT_DELETED
        elif row.revoke_kind == 'completion_annulled':
            reason = f"{ANNULLED_PREFIX}{row.revoke_note or ''}"
        else:
            reason = row.revoke_note or row.revoke_kind.replace('_', ' ')
        bind.execute(
            certificate.update().where(certificate.c.id == row.id).values(revoke_reason=reason[:500])
        )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_certificate_replaced_by_id_certificate'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_certificate_completion_id'))
        batch_op.create_unique_constraint('uq_certificate_completion_id', ['completion_id'])
        for column in (
            'credential', 'replaced_by_id', 'revoke_note', 'revoke_kind', 'completed_on',
            'language', 'tier', 'course_title', 'holder_name',
        ):
            batch_op.drop_column(column)
