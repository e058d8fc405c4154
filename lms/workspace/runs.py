"""Runs: one press of Run is a row, queued for the runs worker. Flushes; never commits.

One Run at a time per learner: a new Run sets the ``cancel`` flag of the learner's earlier
unfinished ones (queued ones end at once; a running one stops before its next cell, when
the worker reads the flag). The queue's depth is read from the rows, so the web refuses a
Run (``RunQueueFull``: 429) when more than ``RUN_QUEUE_MAX`` are waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.courses.models import Item
from lms.db import utcnow
from lms.workspace import services
from lms.workspace.models import CellRun, Draft, DraftRevision, RevisionKind, RunStatus
from lms.workspace.notebooks import InvalidDraft

UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunQueueFull(Exception):
    """More Runs are waiting than the machine serves in time: try again shortly."""

    def __init__(self, waiting: int) -> None:
        super().__init__(waiting)
        self.waiting = waiting


def waiting(session: Session, *, stale_seconds: float, now: datetime | None = None) -> int:
    """Runs queued and not yet stale (a Run queued longer was lost with its worker)."""
    since = (now or utcnow()) - timedelta(seconds=stale_seconds)
    return (
        session.scalar(
            select(func.count(CellRun.id)).where(
                CellRun.status == RunStatus.QUEUED, CellRun.created_at >= since
            )
        )
        or 0
    )


def start(
    session: Session,
    *,
    user: User,
    item: Item,
    base: int,
    cells: Any,
    cell_id: str,
    queue_max: int,
    stale_seconds: float,
    max_bytes: int,
) -> CellRun:
    """Save the cells as a Run revision and queue a Run of ``cell_id`` on it."""
    services.check_enrolled(session, user=user, item=item)
    depth = waiting(session, stale_seconds=stale_seconds)
    if depth >= queue_max:
        raise RunQueueFull(depth)
    revision = services.save(
        session,
        user=user,
        item=item,
        base=base,
        cells=cells,
        kind=RevisionKind.RUN,
        max_bytes=max_bytes,
    )
    if not any(c["id"] == cell_id and c["type"] == "code" for c in revision.cells):
        raise InvalidDraft("bad-run-cell")
    now = utcnow()
    cancel_unfinished(session, user_id=user.id)
    run = CellRun(
        draft_id=revision.draft_id,
        revision_id=revision.id,
        user_id=user.id,
        cell_id=cell_id,
        status=RunStatus.QUEUED,
        created_at=now,
        outputs={},
        timings={},
        flags=[],
    )
    session.add(run)
    session.get_one(Draft, revision.draft_id).last_run_at = now
    session.flush()
    return run


def cancel_unfinished(session: Session, *, user_id: int) -> None:
    """Ask the learner's unfinished Runs to stop: queued ones end now, a running one before
    its next cell."""
    now = utcnow()
    session.execute(
        update(CellRun)
        .where(CellRun.user_id == user_id, CellRun.status == RunStatus.QUEUED)
        .values(status=RunStatus.CANCELLED, cancel=True, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CellRun)
        .where(CellRun.user_id == user_id, CellRun.status == RunStatus.RUNNING)
        .values(cancel=True)
        .execution_options(synchronize_session=False)
    )


def own_run(session: Session, *, run_id: int, user: User, stale_seconds: float) -> CellRun | None:
    """The learner's own Run (None for anyone else's); one lost with its worker is failed."""
    run = session.get(CellRun, run_id)
    if run is None or run.user_id != user.id:
        return None
    if not run.finished:
        since = run.started_at or run.created_at
        if since < utcnow() - timedelta(seconds=stale_seconds):
            run.status, run.reason_code, run.finished_at = RunStatus.FAILED, "lost", utcnow()
            session.flush()
    return run


# -- the runs worker's side ---------------------------------------------------------------


def claim(session: Session, *, run_id: int) -> bool:
    """Mark a queued, not cancelled Run as running for this worker; False if it is not."""
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(CellRun)
            .where(
                CellRun.id == run_id,
                CellRun.status == RunStatus.QUEUED,
                CellRun.cancel.is_(False),
            )
            .values(status=RunStatus.RUNNING, started_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def cancel_requested(session: Session, *, run_id: int) -> bool:
    return bool(session.scalar(select(CellRun.cancel).where(CellRun.id == run_id)))


def material(session: Session, *, run_id: int) -> dict[str, Any]:
    """What the worker needs to execute a Run: the master, the draft as a notebook, the
    data files, the cell to stop after."""
    run = session.get_one(CellRun, run_id)
    revision = session.get_one(DraftRevision, run.revision_id)
    draft = session.get_one(Draft, run.draft_id)
    item = session.get_one(Item, draft.item_id)
    assignment = item.assignment
    assert assignment is not None, "an assignment item always has its assignment"
    from lms.workspace import notebooks

    return {
        "master": assignment.master,
        "draft": notebooks.to_notebook(services.released(item), revision.cells),
        "files": {f.name: f.content for f in assignment.files},
        "cell_id": run.cell_id,
    }


def finish(
    session: Session,
    *,
    run_id: int,
    status: RunStatus,
    outputs: dict[str, Any],
    reason_code: str | None,
    timings: dict[str, Any],
    flags: list[str],
) -> None:
    """Store a Run's outcome (a cancelled Run keeps no outputs)."""
    if status == RunStatus.CANCELLED:
        outputs = {}
    session.execute(
        update(CellRun)
        .where(CellRun.id == run_id)
        .values(
            status=status,
            outputs=outputs,
            reason_code=reason_code or None,
            timings=timings,
            flags=flags,
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()


def last_outputs(session: Session, *, user: User, item: Item) -> dict[str, Any]:
    """The outputs of the learner's last finished Run of this draft (shown after a reload)."""
    draft = services.find_draft(session, user=user, item=item)
    if draft is None:
        return {}
    run = session.scalar(
        select(CellRun)
        .where(CellRun.draft_id == draft.id, CellRun.status == RunStatus.DONE)
        .order_by(CellRun.id.desc())
        .limit(1)
    )
    return dict(run.outputs) if run is not None else {}
