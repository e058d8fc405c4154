"""Completion facts, per-person milestones and corrections (see DESIGN.md, the counts)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, utcnow


class CorrectionKind(enum.StrEnum):
    ANNULLED = "annulled"  # an admin annulled a fraudulent completion
    MERGED = "merged"  # two accounts were found to be one person (same IIN)


class Completion(Base):
    """An immutable fact: one account completed one course, with its attributes then."""

    __tablename__ = "completion"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    person_key: Mapped[str] = mapped_column(String(32), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(8))
    sector: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(2))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[date] = mapped_column(index=True)


class Milestone(Base):
    """A person's first completion of any course, and of a specialist course."""

    __tablename__ = "milestone"

    person_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_completion_id: Mapped[int | None] = mapped_column(ForeignKey("completion.id"))
    first_day: Mapped[date | None] = mapped_column(index=True)
    specialist_completion_id: Mapped[int | None] = mapped_column(ForeignKey("completion.id"))
    specialist_day: Mapped[date | None] = mapped_column(index=True)


class Correction(Base):
    """A recorded change to what a completion counts for; facts themselves never change."""

    __tablename__ = "correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    completion_id: Mapped[int] = mapped_column(ForeignKey("completion.id"), index=True)
    kind: Mapped[CorrectionKind] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
