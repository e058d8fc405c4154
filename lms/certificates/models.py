"""Certificates: what was true when each was issued, with an unguessable code; revocation
(why, as a kind from a fixed list, and the admin's internal note) is recorded here."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, utcnow
from lms.stats.models import Completion


class RevocationKind(enum.StrEnum):
    """Why a certificate is revoked: the public answer is one of these, translated."""

    ISSUED_IN_ERROR = "issued_in_error"
    FRAUD = "fraud"
    COMPLETION_ANNULLED = "completion_annulled"
    ACCOUNT_DELETED = "account_deleted"
    REPLACED = "replaced"


# What an admin may choose on the certificates page; the others are the platform's own.
ADMIN_KINDS = (RevocationKind.ISSUED_IN_ERROR, RevocationKind.FRAUD)


class Certificate(Base):
    """A certificate of one completion, stating what was true when it was issued.

    The holder's name, the course title (in the language of study), the tier and the day of
    completion are copied here at issue, so later changes to the profile or the course do
    not rewrite it. A completion may have several certificates (a re-issue after a change
    of name): the current one has no ``replaced_by_id``. Deleting the holder's account
    blanks ``holder_name`` and ``credential``.
    """

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Base32, 160 random bits: the only handle in any URL (never the row id).
    code: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("completion.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    holder_name: Mapped[str | None] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(Text)
    tier: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2))
    completed_on: Mapped[date]
    revoked_at: Mapped[datetime | None]
    revoke_kind: Mapped[RevocationKind | None] = mapped_column(String(32))
    # The admin's own words: for admins only, never shown on a public page.
    revoke_note: Mapped[str | None] = mapped_column(String(500))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    # The signed credential (VC-JWT), made once and served as stored; and its key's id.
    credential: Mapped[str | None] = mapped_column(Text)
    key_id: Mapped[str | None] = mapped_column(String(64))

    completion: Mapped[Completion] = relationship(lazy="joined")
    replaced_by: Mapped[Certificate | None] = relationship(
        remote_side=[id], foreign_keys=[replaced_by_id], lazy="joined", join_depth=1
    )
