"""What the workspace page is built from: the cells, their last outputs, the script's
settings and its words in the learner's language."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lms.assignments import services as assignments
from lms.assignments.rendering import safe_markdown
from lms.courses.models import Item
from lms.i18n import localized
from lms.workspace import notebooks
from lms.workspace.messages import shown_outputs

AUTOSAVE_MS = 1500  # a save 1.5 s after typing stops


def strings() -> dict[str, str]:
    """Every text the script shows, translated here (the script holds none of its own)."""
    return {
        "saved": _("All changes saved"),
        "saving": _("Saving…"),
        "unsaved": _("Unsaved changes"),
        "offline": _(
            "Offline: your work is kept in this browser and will be saved when the "
            "connection is back."
        ),
        "signedOut": _(
            "You are signed out. Sign in again in another tab; your work is kept in this "
            "browser until then."
        ),
        "signIn": _("Sign in again"),
        "conflict": _(
            "This draft was changed in another tab or on another device. Nothing is lost: "
            "both versions are kept."
        ),
        "openLatest": _("Open the latest saved version"),
        "keepMine": _("Keep my version"),
        "run": _("Run"),
        "running": _("Running…"),
        "queued": _("Waiting for a free machine…"),
        "reset": _("Reset"),
        "resetConfirm": _(
            "Put this cell back to its original text? Your code in this cell will be lost."
        ),
        "delete": _("Delete"),
        "deleteConfirm": _("Delete this cell?"),
        "addCell": _("Add a code cell below"),
        "cell": _("Cell %(n)s", n="{n}"),
        "cellDone": _("Cell %(n)s ran.", n="{n}"),
        "cellError": _("Cell %(n)s failed: %(error)s", n="{n}", error="{error}"),
        "cellNoOutput": _("Cell %(n)s ran, with no output.", n="{n}"),
        "busy": _("The machines are busy. Try again in a few seconds."),
        "submit": _("Submit for grading"),
        "submitting": _("Submitting…"),
        "submitConfirm": _("Submit this version for grading? It uses one attempt."),
        "submitted": _("Submitted: grading…"),
        "revisionOpened": _(
            "Revision %(n)s opened. It becomes your draft when you edit or run it.", n="{n}"
        ),
        "error": _("Something went wrong. Try again."),
        "lockedCell": _("Read-only cell"),
        "answerCell": _("Your answer"),
        "ownCell": _("Your cell"),
        "image": _("An image the code displayed"),
        "kind_autosave": _("saved automatically"),
        "kind_run": _("run"),
        "kind_submit": _("submitted"),
        "kind_upload": _("uploaded"),
        "kind_side": _("kept from another tab"),
        "editorLabel": _(
            "Code of cell %(n)s. Shift+Enter runs it; Escape then Tab leaves the editor.", n="{n}"
        ),
    }


def _cells(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shown = []
    for number, cell in enumerate(cells, 1):
        entry = dict(cell, number=number)
        if cell["type"] == "markdown" and cell["role"] == "locked":
            entry["html"] = safe_markdown(cell.get("source", ""))
        shown.append(entry)
    return shown


def page_context(
    session: Session,
    *,
    item: Item,
    user: Any,
    cells: list[dict[str, Any]],
    revision: int,
    nonce: str,
    outputs: dict[str, Any],
    editable: bool,
    submission: Any = None,
    opened: int | None = None,
) -> dict[str, Any]:
    """The template's context (``editable`` False: an instructor's read-only view)."""
    course = item.course
    assignment = assignments.assignment_of(item)
    kw: dict[str, Any] = {"slug": course.slug, "item_key": item.key}
    config: dict[str, Any] = {
        "editable": editable,
        "nonce": nonce,
        "revision": revision,
        "opened": opened,
    }
    left = None
    if editable:
        from flask_wtf.csrf import generate_csrf

        config["csrf"] = generate_csrf()
        used = len(assignments.my_submissions(session, user=user, item=item))
        left = None if assignment.max_attempts is None else max(assignment.max_attempts - used, 0)
        config.update(
            storageKey=f"oqu-draft:{user.id}:{item.id}",
            autosaveMs=AUTOSAVE_MS,
            urls={
                "draft": url_for("workspace.save", **kw),
                "runs": url_for("workspace.start_run", **kw),
                "submit": url_for("workspace.submit", **kw),
                "token": url_for("workspace.token", **kw),
                "revisions": url_for("workspace.revisions", **kw),
                "login": url_for("accounts.login"),
            },
            strings=strings(),
        )
    return {
        "item": item,
        "course": course,
        "assignment": assignment,
        "title": localized(item.title, course.languages),
        "course_title": localized(course.title, course.languages),
        "item_url": url_for("assignments.item", **kw),
        "cells": _cells(cells),
        "outputs": shown_outputs(outputs),
        "config": config,
        "editable": editable,
        "left": left,
        "submission": submission,
        "nonce": nonce,
        # Answer cells' released text, for "Reset" (by grade id).
        "released": {g: c.source for g, c in notebooks.released(assignment.student).answers.items()}
        if editable
        else {},
    }
