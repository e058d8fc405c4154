"""Certificates: one per completion, with an unguessable code; revocation is recorded here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, utcnow
from lms.stats.models import Completion


class Certificate(Base):
    """The certificate of one completion.

    The holder's name is deliberately not stored: it is read from the account at render
    time, so that deleting the account erases it and the certificate verifies as revoked.
    """

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Base32, 160 random bits: the only handle in any URL (never the row id).
    code: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("completion.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    # The key that signs this certificate's credential; set at the first signature so that
    # re-downloads give the same bytes while that key is still published.
    key_id: Mapped[str | None] = mapped_column(String(64))

    completion: Mapped[Completion] = relationship(lazy="joined")
