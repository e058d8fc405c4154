"""Drafts and their revisions: saving with conflict detection, uploads, Submit. Flushes;
never commits (a refused save's side revision is committed by the view, then 409)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.assignments import services as assignments
from lms.assignments.models import Submission
from lms.courses.models import Course, Item, ItemKind
from lms.db import utcnow
from lms.learning.services import find_enrollment
from lms.workspace import notebooks
from lms.workspace.models import CellRun, Draft, DraftRevision, RevisionKind
from lms.workspace.notebooks import InvalidDraft, Released

__all__ = [
    "AUTOSAVES_KEPT",
    "DraftConflict",
    "InvalidDraft",
    "NotEnrolled",
    "save",
    "submit",
]

AUTOSAVES_KEPT = 50
SIDES_KEPT = 20  # refused saves kept beside the head (a stuck second tab cannot fill the disk)
LISTED = 200  # revisions listed for the learner to open


class NotEnrolled(Exception):
    """Drafts are for the course's enrolled learners."""


class DraftConflict(Exception):
    """The save was based on revision ``base`` but the head is ``current``: refused; the
    text was kept as revision ``side``."""

    def __init__(self, *, current: int, side: int) -> None:
        super().__init__(current, side)
        self.current, self.side = current, side


def released(item: Item) -> Released:
    """The item's student version, indexed."""
    return notebooks.released(assignments.assignment_of(item).student)


def with_sources(rel: Released, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A revision's cells as the page shows them (see ``notebooks.with_sources``)."""
    return notebooks.with_sources(rel, cells)


def check_enrolled(session: Session, *, user: User, item: Item) -> None:
    if find_enrollment(session, user=user, course=item.course) is None:
        raise NotEnrolled(user.id, item.course_id)


def find_draft(session: Session, *, user: User, item: Item) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.item_id == item.id))


def revision_of(session: Session, *, draft: Draft, number: int) -> DraftRevision | None:
    return session.scalar(
        select(DraftRevision).where(
            DraftRevision.draft_id == draft.id, DraftRevision.number == number
        )
    )


def current(session: Session, *, user: User, item: Item) -> tuple[int, list[dict[str, Any]]]:
    """The head revision's number (0: nothing saved yet) and its cells, as the page shows
    them."""
    rel = released(item)
    draft = find_draft(session, user=user, item=item)
    head = revision_of(session, draft=draft, number=draft.head) if draft and draft.head else None
    if draft is None or head is None:
        return 0, notebooks.with_sources(rel, notebooks.initial_cells(rel))
    return head.number, notebooks.with_sources(rel, head.cells)


def _draft_for_update(session: Session, *, user: User, item: Item) -> Draft:
    """The learner's draft, created on the first save, its row locked until the commit (so
    two saves of one draft are decided one after the other)."""
    statement = (
        select(Draft).where(Draft.user_id == user.id, Draft.item_id == item.id).with_for_update()
    )
    draft = session.scalar(statement)
    if draft is not None:
        return draft
    try:
        with session.begin_nested():
            draft = Draft(user_id=user.id, item_id=item.id, head=0, numbered=0)
            session.add(draft)
    except IntegrityError:  # a second tab created it first
        draft = session.scalars(statement.execution_options(populate_existing=True)).one()
    return draft


def _new_revision(
    session: Session,
    draft: Draft,
    *,
    kind: RevisionKind,
    cells: list[dict[str, Any]],
    based_on: int | None,
    now: datetime,
) -> DraftRevision:
    draft.numbered += 1
    revision = DraftRevision(
        draft_id=draft.id,
        number=draft.numbered,
        kind=kind,
        based_on=based_on,
        cells=cells,
        created_at=now,
    )
    session.add(revision)
    return revision


def save(
    session: Session,
    *,
    user: User,
    item: Item,
    base: int,
    cells: Any,
    kind: RevisionKind = RevisionKind.AUTOSAVE,
    max_bytes: int,
    now: datetime | None = None,
) -> DraftRevision:
    """Save the page's cells as the draft's new head, if they are based on the head;
    ``DraftConflict`` (the text kept as a side revision) if not; ``InvalidDraft``."""
    check_enrolled(session, user=user, item=item)
    checked = notebooks.validate(released(item), cells, max_bytes=max_bytes)
    now = now or utcnow()
    draft = _draft_for_update(session, user=user, item=item)
    if base != draft.head:
        side = _new_revision(
            session, draft, kind=RevisionKind.SIDE, cells=checked, based_on=base, now=now
        )
        session.flush()
        _prune(session, draft, RevisionKind.SIDE, SIDES_KEPT)
        raise DraftConflict(current=draft.head, side=side.number)
    head = revision_of(session, draft=draft, number=draft.head) if draft.head else None
    if head is not None and head.cells == checked and head.submission_id is None:
        # The same text again (a retried save, a Run without edits): no new revision, but
        # one made at Run or Submit is kept for good.
        if kind != RevisionKind.AUTOSAVE and head.kind == RevisionKind.AUTOSAVE:
            head.kind = kind
        draft.updated_at = now
        session.flush()
        return head
    revision = _new_revision(session, draft, kind=kind, cells=checked, based_on=base, now=now)
    draft.head, draft.updated_at = revision.number, now
    session.flush()
    if kind == RevisionKind.AUTOSAVE:
        _prune(session, draft, RevisionKind.AUTOSAVE, AUTOSAVES_KEPT)
    return revision


def _prune(session: Session, draft: Draft, kind: RevisionKind, keep: int) -> None:
    """Delete all but the newest ``keep`` revisions of ``kind`` (never the head, nor one a
    Run still uses)."""
    old = (
        select(DraftRevision.number)
        .where(DraftRevision.draft_id == draft.id, DraftRevision.kind == kind)
        .order_by(DraftRevision.number.desc())
        .offset(keep)
    )
    numbers = [n for n in session.scalars(old) if n != draft.head]
    if not numbers:
        return
    in_use = select(CellRun.revision_id).where(CellRun.draft_id == draft.id)
    session.execute(
        delete(DraftRevision)
        .where(
            DraftRevision.draft_id == draft.id,
            DraftRevision.number.in_(numbers),
            DraftRevision.id.not_in(in_use),
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()


def revisions(session: Session, *, user: User, item: Item) -> list[DraftRevision]:
    """The learner's revisions of this draft, newest first."""
    draft = find_draft(session, user=user, item=item)
    if draft is None:
        return []
    return list(
        session.scalars(
            select(DraftRevision)
            .where(DraftRevision.draft_id == draft.id)
            .order_by(DraftRevision.number.desc())
            .limit(LISTED)
        )
    )


def open_revision(session: Session, *, user: User, item: Item, number: int) -> DraftRevision | None:
    """One of the learner's own revisions (None: no such revision of their draft)."""
    draft = find_draft(session, user=user, item=item)
    return revision_of(session, draft=draft, number=number) if draft is not None else None


def submit(
    session: Session, *, user: User, item: Item, base: int, cells: Any, max_bytes: int
) -> tuple[DraftRevision, Submission]:
    """Save the cells as a Submit revision and queue exactly that revision for grading
    through the assignments feature (attempts counted as for uploads)."""
    import nbformat  # here: importing it costs seconds

    revision = save(
        session,
        user=user,
        item=item,
        base=base,
        cells=cells,
        kind=RevisionKind.SUBMIT,
        max_bytes=max_bytes,
    )
    notebook = notebooks.to_notebook(released(item), revision.cells)
    submission = assignments.submit_notebook(
        session,
        user=user,
        item=item,
        data=nbformat.writes(notebook).encode("utf-8"),
        # The draft's own size was checked above; the notebook adds the release's text.
        max_bytes=max_bytes + len(assignments.assignment_of(item).student.encode()),
        uploaded=False,
    )
    revision.kind, revision.submission_id = RevisionKind.SUBMIT, submission.id
    session.flush()
    return revision, submission


def record_upload(session: Session, *, submission: Submission) -> DraftRevision | None:
    """An uploaded notebook becomes the head of the learner's draft (kept for good)."""
    item = session.get_one(Item, submission.item_id)
    user = session.get_one(User, submission.user_id)
    rel = released(item)
    try:
        cells = notebooks.validate(
            rel, notebooks.from_notebook(rel, submission.notebook), max_bytes=2**31
        )
    except (InvalidDraft, ValueError):
        return None  # graded as uploaded; it just does not become a draft
    draft = _draft_for_update(session, user=user, item=item)
    now = utcnow()
    revision = _new_revision(
        session, draft, kind=RevisionKind.UPLOAD, cells=cells, based_on=draft.head, now=now
    )
    revision.submission_id = submission.id
    draft.head, draft.updated_at = revision.number, now
    session.flush()
    return revision


def submitted_revision(
    session: Session, *, submission_id: int, user: User
) -> tuple[DraftRevision, Submission] | None:
    """The revision a submission graded, for the course's instructors only (None: not
    theirs, or no such revision)."""
    submission = session.get(Submission, submission_id)
    if submission is None or not assignments.teaches(
        session, user=user, course=submission.item.course
    ):
        return None
    revision = session.scalar(
        select(DraftRevision).where(DraftRevision.submission_id == submission_id)
    )
    return (revision, submission) if revision is not None else None


def delete_drafts(session: Session, *, user: Any) -> None:
    """Erase every draft, revision and Run of ``user`` (the account is being deleted)."""
    session.execute(delete(CellRun).where(CellRun.user_id == user.id))
    drafts = select(Draft.id).where(Draft.user_id == user.id)
    session.execute(delete(DraftRevision).where(DraftRevision.draft_id.in_(drafts)))
    session.execute(delete(Draft).where(Draft.user_id == user.id))
    session.flush()


@dataclass
class Activity:
    """How many learners have a draft, have run it, have submitted, for one item."""

    drafts: int = 0
    ran: int = 0
    submitted: int = 0


def activity(session: Session, *, course: Course) -> dict[int, Activity]:
    """Per assignment item of ``course``: learners with a draft, who ran it, who submitted."""
    items = [i.id for i in course.items if i.kind == ItemKind.ASSIGNMENT]
    found = {item_id: Activity() for item_id in items}
    if not items:
        return found
    for item_id, drafts, ran in session.execute(
        select(Draft.item_id, func.count(Draft.id), func.count(Draft.last_run_at))
        .where(Draft.item_id.in_(items))
        .group_by(Draft.item_id)
    ):
        found[item_id].drafts, found[item_id].ran = drafts, ran
    for item_id, submitted in session.execute(
        select(Submission.item_id, func.count(func.distinct(Submission.user_id)))
        .where(Submission.item_id.in_(items))
        .group_by(Submission.item_id)
    ):
        found[item_id].submitted = submitted
    return found
