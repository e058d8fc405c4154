"""A learner's draft of a notebook assignment, its revisions, and the Runs made from them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, utcnow


class RevisionKind(enum.StrEnum):
    AUTOSAVE = "autosave"  # the last 50 are kept
    RUN = "run"  # kept
    SUBMIT = "submit"  # kept, and names its submission
    UPLOAD = "upload"  # an uploaded notebook (the Jupyter path): kept
    SIDE = "side"  # a save refused as stale (a second tab): kept beside the head


class Draft(Base):
    """One learner's work on one assignment item, shared by the workspace and uploads.

    Personal data: seen by its learner only, and by the course's instructors only in the
    revisions that were submitted; deleted with the account.
    """

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    head: Mapped[int] = mapped_column(default=0)  # number of the current revision
    numbered: Mapped[int] = mapped_column(default=0)  # last revision number handed out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_run_at: Mapped[datetime | None]  # the studio counts learners who ran their draft


class DraftRevision(Base):
    """The draft's cells as saved once: ``cells`` is a list of
    ``{"id", "type", "grade_id"?, "source"?}``; a locked cell carries no source (it is the
    released text, whatever the learner's page sent)."""

    __tablename__ = "draft_revision"
    __table_args__ = (
        UniqueConstraint("draft_id", "number"),
        Index("ix_draft_revision_draft_kind", "draft_id", "kind", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    kind: Mapped[RevisionKind] = mapped_column(String(16))
    based_on: Mapped[int | None]
    cells: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The submission that graded exactly this revision (Submit, or an upload).
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL"), index=True
    )

    draft: Mapped[Draft] = relationship()


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # ran to the end, or stopped with a message for the learner
    FAILED = "failed"  # the platform's fault (no kernel, a lost worker)
    CANCELLED = "cancelled"  # replaced by a newer Run of the same learner


class CellRun(Base):
    """One press of Run: cells 1..i of a saved revision, executed by the runs worker.

    ``outputs`` maps a cell id to ``{"count": n, "outputs": [...]}`` already made safe to
    show (``lms.workspace.outputs``). ``cancel`` is the flag a newer Run sets; the worker
    reads it between cells.
    """

    __tablename__ = "cell_run"
    __table_args__ = (
        Index("ix_cell_run_status_created_at", "status", "created_at"),
        Index("ix_cell_run_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("draft_revision.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    cell_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[RunStatus] = mapped_column(String(16), default=RunStatus.QUEUED)
    cancel: Mapped[bool] = mapped_column(default=False)
    reason_code: Mapped[str | None] = mapped_column(String(32))
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    revision: Mapped[DraftRevision] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)
