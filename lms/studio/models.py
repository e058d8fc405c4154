"""Models of the studio: an instructor's grade for a cell that needs a person."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, utcnow


class ManualGrade(Base):
    """A person's score and comment for one manually graded cell of one submission."""

    __tablename__ = "manual_grade"
    __table_args__ = (UniqueConstraint("submission_id", "grade_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    grade_id: Mapped[str] = mapped_column(String(200))
    score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    comment: Mapped[str] = mapped_column(Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)
