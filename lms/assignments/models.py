"""Submitted notebooks, their grading state and results, instructors' regrades and the
grades a person gives to cells that need one."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.courses.models import Item
from lms.db import Base, utcnow
from lms.learning.models import Enrollment


class SubmissionStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    GRADED = "graded"
    FAILED = "failed"


class Submission(Base):
    """One uploaded notebook for one assignment item, graded asynchronously.

    The row is the source of truth for grading: the broker only makes it fast, and the
    worker's sweep re-sends rows left ``queued`` or ``running`` past a deadline.
    """

    __tablename__ = "submission"
    __table_args__ = (
        Index("ix_submission_status_submitted_at", "status", "submitted_at"),
        # The studio's manual-grading list: the first three columns find a course item's
        # queue, the rest is the list's sort key (waiting first, oldest first, then id).
        Index(
            "ix_submission_manual_queue",
            "item_id",
            "needs_manual_grade",
            "status",
            "manual_pending",
            "submitted_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    notebook: Mapped[str] = mapped_column(Text)
    status: Mapped[SubmissionStatus] = mapped_column(String(16), default=SubmissionStatus.QUEUED)
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    max_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    auto_max_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    needs_manual_grade: Mapped[bool] = mapped_column(default=False)
    # Cells of ``result`` that need a person and have no ManualGrade yet: kept by grading
    # and by the studio's grade_cell, so the manual-grading list sorts and pages in SQL.
    manual_pending: Mapped[int] = mapped_column(default=0, server_default="0")
    passed: Mapped[bool] = mapped_column(default=False)
    # Per grade/task cell: grade_id, score, max_score, needs_manual_grade, passed, kind,
    # and the output of visible tests only (what the learner may see).
    result: Mapped[list[Any]] = mapped_column(default=list)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    # For a flag that has them, at most 20 names: what it is about (for "patched-library",
    # what the guard put back: "numpy.allclose"). NULL for submissions graded before.
    flag_details: Mapped[dict[str, Any] | None] = mapped_column(default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    # The engine's code for ``reason`` ("run-timeout", "kernel-stopped"...): shown translated.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    # The executed notebook, hidden tests included: for instructors only.
    executed: Mapped[str | None] = mapped_column(Text)
    # Deliveries of the grading task that claimed this row; also the claim token.
    attempts: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    graded_at: Mapped[datetime | None]
    graded_by_task_id: Mapped[str | None] = mapped_column(String(64))
    # The upload's request id (lms/requestid.py): the worker's log lines carry it, and so
    # do the sweep's re-sends, so one id follows the submission through the logs.
    request_id: Mapped[str | None] = mapped_column(String(64))
    regrade_count: Mapped[int] = mapped_column(default=0)

    enrollment: Mapped[Enrollment] = relationship()
    item: Mapped[Item] = relationship()
    user: Mapped[User] = relationship()
    regrades: Mapped[list[Regrade]] = relationship(
        back_populates="submission", order_by="Regrade.requested_at", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.status in (SubmissionStatus.GRADED, SubmissionStatus.FAILED)


class Regrade(Base):
    """An instructor's request to grade a submission again: who, when, before and after."""

    __tablename__ = "regrade"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    old_status: Mapped[str] = mapped_column(String(16))
    old_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    new_status: Mapped[str | None] = mapped_column(String(16))
    new_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    done_at: Mapped[datetime | None]

    submission: Mapped[Submission] = relationship(back_populates="regrades")
    requested_by: Mapped[User | None] = relationship()


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
