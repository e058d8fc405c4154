"""The studio's blueprint and what every studio page shares: access checks, lookups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user

from lms.courses.models import Course, Item, ItemKind
from lms.courses.services import CourseNotFound
from lms.db import db
from lms.i18n import localized
from lms.studio import services

bp = Blueprint("studio", __name__, url_prefix="/studio", template_folder="../templates")


def course_or_abort(slug: str) -> Course:
    """The course when the current user may edit it: 404 when absent, 403 when not theirs."""
    try:
        return services.editable_course(db.session(), user=current_user, slug=slug)
    except CourseNotFound:
        abort(404)
    except services.NotAllowed:
        abort(403)


def item_or_404(course: Course, key: str, kind: ItemKind | None = None) -> Item:
    """An item of ``course`` (removed ones too), of ``kind`` when given."""
    item = services.find_item(db.session(), course=course, key=key)
    if item is None or (kind is not None and item.kind != kind):
        abort(404)
    return item


def page_context(course: Course, **more: Any) -> dict[str, Any]:
    """Names every course page of the studio uses."""

    def text(texts: dict[str, str] | None) -> str:
        return localized(texts, course.languages or [])

    return {"course": course, "text": text, "course_title": text(course.title), **more}


def saved(target: str, message: str | None = None) -> Any:
    """Commit the request's change, say so (when there is something to say), and go to
    ``target`` with a 303 (after a POST, the browser comes back with a GET)."""
    db.session().commit()
    if message:
        flash(message, "success")
    return redirect(target, code=303)


def move_step() -> int:
    """The form's ``direction``: -1 for "up", +1 otherwise."""
    return -1 if request.form.get("direction") == "up" else 1


def read_upload(storage: Any) -> bytes | None:
    """The upload's bytes, or None when it is larger than ``MAX_UPLOAD_BYTES``."""
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    data = storage.read(limit + 1)
    return None if len(data) > limit else data


def upload_too_large() -> str:
    """The message for an upload over ``MAX_UPLOAD_BYTES``."""
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    return _("The file is larger than %(size)s MB.", size=f"{limit / 1024 / 1024:g}")
