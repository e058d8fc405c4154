"""Grading one submission: claim the row, grade outside any transaction, store once.

Exactly-once is kept by the row, not by the broker: a run first claims the submission
(``queued``, or ``running`` past the stuck deadline) by bumping ``attempts``, and stores its
result only while that claim is still the latest. A redelivered task for a graded
submission finds nothing to claim; a run overtaken by a newer claim stores nothing.
No Flask here: the Celery task passes a session factory, settings and the kernel provider.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from lms import events
from lms.assignments.models import ManualGrade, Regrade, Submission, SubmissionStatus
from lms.assignments.rendering import hidden_test_ids
from lms.courses.models import Item
from lms.db import utcnow
from lms.learning.models import Enrollment

log = logging.getLogger(__name__)

# What the learner reads when the platform itself could not grade a notebook many times.
INTERNAL_FAILURE = "The notebook could not be graded because of an error on our side."


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a grading run did: ``stored``, ``skipped`` (nothing to claim or claim lost),
    ``requeued`` (infrastructure problem: left for the sweep) or ``gave_up``."""

    action: str
    status: str | None = None


@dataclasses.dataclass(frozen=True)
class Failure:
    """A grade result for a notebook the engine refused, shaped like the engine's."""

    reason: str
    status: str = "failed"
    score: float = 0.0
    max_score: float | None = None
    needs_manual_grade: bool = False
    cells: tuple[Any, ...] = ()


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 2)))


def jsonable(value: Any) -> Any:
    """Dataclasses, tuples and other values of a grade result as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def learner_checks(outcomes: Any) -> tuple[list[dict[str, Any]], bool]:
    """What a learner may read of a cell's checks: each visible one's status and message
    (kk, ru, en), and whether a hidden one failed (never its id, value or message)."""
    shown, hidden_failed = [], False
    for outcome in outcomes if isinstance(outcomes, list) else []:
        if not isinstance(outcome, dict):
            continue
        status = str(outcome.get("status", ""))
        if outcome.get("hidden"):
            hidden_failed = hidden_failed or status != "passed"
            continue
        messages = outcome.get("messages")
        shown.append(
            {
                "status": status,
                "messages": {str(k): str(v) for k, v in messages.items()}
                if isinstance(messages, dict)
                else {},
            }
        )
    return shown, hidden_failed


def learner_cells(cells: list[Any], hidden: set[str]) -> list[dict[str, Any]]:
    """Per-cell feedback kept for the learner: scores, pass/fail, visible tests' output,
    visible checks' outcomes."""
    kept = []
    for cell in cells:
        data = jsonable(cell)
        secret = data.get("grade_id") in hidden
        checks, hidden_check_failed = learner_checks(data.get("checks"))
        kept.append(
            {
                "grade_id": data.get("grade_id"),
                "kind": data.get("kind"),
                "score": data.get("score"),
                "max_score": data.get("max_score"),
                "needs_manual_grade": bool(data.get("needs_manual_grade")),
                "passed": bool(data.get("passed")),
                "hidden": secret,
                # A cell holding hidden tests shows its score only, whatever the engine kept.
                "output": "" if secret else (data.get("feedback_output") or ""),
                "checks": checks,
                "hidden_check_failed": hidden_check_failed,
            }
        )
    return kept


def manual_cells_waiting(cells: list[Any], graded: Collection[str]) -> int:
    """How many of a result's cells need a person and have no grade in ``graded`` yet."""
    return sum(
        1
        for cell in cells
        if isinstance(cell, dict)
        and cell.get("needs_manual_grade")
        and str(cell.get("grade_id")) not in graded
    )


PLATFORM_FAULTS = {"kernel-unavailable", "grader-error"}


def _platform_fault(result: Any) -> bool:
    """A failed result that is the platform's fault (no kernel, a grader bug), not the learner's."""
    if isinstance(result, Failure) or str(result.status) != "failed":
        return False
    code = getattr(result, "reason_code", "")
    return code in PLATFORM_FAULTS if code else getattr(result, "executed", None) is None


def claim(
    session: Session, *, submission_id: int, stuck_seconds: float, task_id: str | None
) -> int | None:
    """Mark the submission running for this run; its claim token, or None if not claimable."""
    now = utcnow()
    stale = now - timedelta(seconds=stuck_seconds)
    result = _write(
        session,
        update(Submission)
        .where(
            Submission.id == submission_id,
            or_(
                Submission.status == SubmissionStatus.QUEUED,
                (Submission.status == SubmissionStatus.RUNNING) & (Submission.started_at < stale),
            ),
        )
        .values(
            status=SubmissionStatus.RUNNING,
            started_at=now,
            attempts=Submission.attempts + 1,
            graded_by_task_id=task_id,
        )
        .execution_options(synchronize_session=False),
    )
    if result.rowcount != 1:
        session.rollback()
        return None
    token = session.get_one(Submission, submission_id).attempts
    session.commit()
    return token


def _write(session: Session, statement: Any) -> CursorResult[Any]:
    """Execute an UPDATE; its result tells how many rows it changed."""
    return cast("CursorResult[Any]", session.execute(statement))


def _still_mine(submission_id: int, token: int) -> Any:
    return (
        (Submission.id == submission_id)
        & (Submission.status == SubmissionStatus.RUNNING)
        & (Submission.attempts == token)
    )


def release_claim(
    session: Session, *, submission_id: int, token: int, give_up: bool = False
) -> None:
    """Hand the submission back to the sweep (queued), or mark it failed for good."""
    values: dict[str, Any] = {"status": SubmissionStatus.QUEUED, "sent_at": utcnow()}
    if give_up:
        values = {
            "status": SubmissionStatus.FAILED,
            "reason": INTERNAL_FAILURE,
            "reason_code": "grader-error",
            "score": Decimal(0),
            "passed": False,
            "graded_at": utcnow(),
        }
    session.execute(
        update(Submission)
        .where(_still_mine(submission_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def store(
    session: Session,
    *,
    submission_id: int,
    token: int,
    result: Any,
    pass_score: Decimal,
    auto_points: Decimal,
    hidden: set[str],
    record: Callable[..., Any] | None,
) -> bool:
    """Store the result if the claim still holds, and record progress; commits."""
    import nbformat  # here: importing it costs seconds

    status = SubmissionStatus(str(result.status))
    score = _decimal(result.score) or Decimal(0)
    auto_max = _decimal(getattr(result, "auto_max_score", None))
    if auto_max is None:
        auto_max = auto_points
    passed = status == SubmissionStatus.GRADED and score >= pass_score * auto_max
    executed = getattr(result, "executed", None)
    if executed is not None and not isinstance(executed, str):
        executed = nbformat.writes(executed)
    now = utcnow()
    cells = learner_cells(list(result.cells or []), hidden)
    manual = manual_cells_waiting(cells, ())
    changed = _write(
        session,
        update(Submission)
        .where(_still_mine(submission_id, token))
        .values(
            status=status,
            score=score,
            max_score=_decimal(result.max_score),
            auto_max_score=auto_max,
            needs_manual_grade=bool(result.needs_manual_grade),
            manual_pending=manual,
            passed=passed,
            result=cells,
            flags=jsonable(list(getattr(result, "flags", None) or [])),
            timings=jsonable(dict(getattr(result, "timings", None) or {})),
            reason=getattr(result, "reason", None) or None,
            reason_code=getattr(result, "reason_code", None) or None,
            executed=executed,
            graded_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    if changed.rowcount != 1:
        session.rollback()
        return False
    if manual:
        _count_manual_grades_kept(session, submission_id=submission_id, cells=cells)
    regraded = (
        _write(
            session,
            update(Regrade)
            .where(Regrade.submission_id == submission_id, Regrade.done_at.is_(None))
            .values(new_status=str(status), new_score=score, done_at=now)
            .execution_options(synchronize_session=False),
        ).rowcount
        > 0
    )
    if status == SubmissionStatus.GRADED and record is not None:
        submission = session.get_one(Submission, submission_id)
        # An instructor's regrade is not one more attempt of the learner's.
        record(
            session,
            enrollment=session.get_one(Enrollment, submission.enrollment_id),
            item=session.get_one(Item, submission.item_id),
            score=score,
            max_score=auto_max,
            passed=passed,
            at=now,
            new_attempt=not regraded,
        )
    events.submission_graded.send(session.get_one(Submission, submission_id), session=session)
    session.commit()
    return True


def _count_manual_grades_kept(session: Session, *, submission_id: int, cells: list[Any]) -> None:
    """A regrade keeps the grades instructors gave: cells that have one do not wait again."""
    # Read after the UPDATE above: it waited for any grade_cell holding the row's lock, so
    # that grade is seen here, and a later grade_cell waits for this commit and counts anew.
    graded = set(
        session.scalars(
            select(ManualGrade.grade_id).where(ManualGrade.submission_id == submission_id)
        )
    )
    if graded:
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id)
            .values(manual_pending=manual_cells_waiting(cells, graded))
            .execution_options(synchronize_session=False)
        )


def run(
    sessions: Callable[[], Session],
    *,
    submission_id: int,
    settings: Any,
    provider: Callable[[], Any],
    grade: Callable[..., Any],
    stuck_seconds: float,
    max_deliveries: int,
    task_id: str | None = None,
    record: Callable[..., Any] | None = None,
    infrastructure_errors: tuple[type[BaseException], ...] = (),
    learner_errors: tuple[type[BaseException], ...] = (),
) -> Outcome:
    """Grade one submission end to end; safe to call again for the same id at any time."""
    import nbformat  # here: importing it costs seconds

    with sessions() as session:
        token = claim(
            session, submission_id=submission_id, stuck_seconds=stuck_seconds, task_id=task_id
        )
        if token is None:
            return Outcome("skipped")
        submission = session.get_one(Submission, submission_id)
        item = session.get_one(Item, submission.item_id)
        assignment = item.assignment
        assert assignment is not None, "an assignment item always has its assignment"
        master_text, notebook_text = assignment.master, submission.notebook
        files = {f.name: f.content for f in assignment.files}
        pass_score, auto_points = assignment.pass_score, assignment.auto_points
        # The token counts every delivery since the upload; each regrade brings a fresh
        # allowance, so a regrade after many earlier ones is not given up at its first hitch.
        allowance = max_deliveries * (submission.regrade_count + 1)
    try:
        master = nbformat.reads(master_text, as_version=4)
        learner = nbformat.reads(notebook_text, as_version=4)
        result = grade(master, learner, settings=settings, kernel_provider=provider(), files=files)
    except learner_errors as error:
        result = Failure(reason=str(error))
    except infrastructure_errors as error:
        log.error(
            "GRADING BLOCKED: submission %s left queued for the sweep: %s", submission_id, error
        )
        with sessions() as session:
            release_claim(session, submission_id=submission_id, token=token)
        return Outcome("requeued")
    except Exception:
        give_up = token >= allowance
        log.exception(
            "grading submission %s crashed (delivery %s of %s)%s",
            submission_id,
            token,
            allowance,
            "; marking it failed" if give_up else "",
        )
        with sessions() as session:
            release_claim(session, submission_id=submission_id, token=token, give_up=give_up)
        return Outcome("gave_up" if give_up else "requeued")
    if _platform_fault(result) and token < allowance:
        # No kernel could be had, or the grader broke: never the learner's fault. Leave it
        # queued for the sweep; only after many deliveries is it stored as failed.
        log.error(
            "GRADING BLOCKED: submission %s (delivery %s) left for the sweep: %s",
            submission_id,
            token,
            getattr(result, "reason", ""),
        )
        with sessions() as session:
            release_claim(session, submission_id=submission_id, token=token)
        return Outcome("requeued")
    with sessions() as session:
        stored = store(
            session,
            submission_id=submission_id,
            token=token,
            result=result,
            pass_score=pass_score,
            auto_points=auto_points,
            hidden=hidden_test_ids(master_text),
            record=record,
        )
    return Outcome("stored", str(result.status)) if stored else Outcome("skipped")
