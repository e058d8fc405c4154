"""A learner's enrolments, progress per item and quiz attempts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.courses.models import Course, Item
from lms.db import Base, utcnow


class Enrollment(Base):
    """A learner taking a course in one of its languages."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # Set when an admin annuls the completion (``events.completion_annulled``): it then
    # satisfies no prerequisite, and the course is never completed a second time.
    completion_annulled_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
    progress: Mapped[list[ItemProgress]] = relationship(
        back_populates="enrollment", cascade="all, delete-orphan"
    )


class ItemProgress(Base):
    """Where a learner stands on one item: best score so far and whether it is passed."""

    __tablename__ = "item_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    passed: Mapped[bool] = mapped_column(default=False)
    best_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    max_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    passed_at: Mapped[datetime | None]

    enrollment: Mapped[Enrollment] = relationship(back_populates="progress")
    item: Mapped[Item] = relationship()


class QuizAttempt(Base):
    """One submitted set of answers, scored on the server."""

    __tablename__ = "quiz_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict[str, Any]]
    # Per question key: {"points": ..., "max": ..., "correct": bool}
    results: Mapped[dict[str, Any]]
    score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    passed: Mapped[bool]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    enrollment: Mapped[Enrollment] = relationship()
    item: Mapped[Item] = relationship()
