"""The lesson editor: Markdown per language, and a preview rendered exactly as learners see it."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _

from lms.courses.models import ItemKind
from lms.db import db
from lms.i18n import LANGUAGES
from lms.learning.rendering import lesson_html
from lms.security import roles_required
from lms.studio import content
from lms.studio.forms import LessonForm, require_first
from lms.studio.views import bp, course_or_abort, item_or_404, page_context, saved
from lms.studio.views.courses import STAFF


@bp.route("/courses/<slug>/lessons/<key>", methods=["GET", "POST"])
@roles_required(*STAFF)
def lesson(slug: str, key: str) -> Any:
    course = course_or_abort(slug)
    item = item_or_404(course, key, ItemKind.LESSON)
    form = LessonForm()
    previews: dict[str, str] = {}
    status = 200
    if not form.is_submitted():
        bodies = item.lesson.body if item.lesson is not None else {}
        for lang in LANGUAGES:
            getattr(form, f"body_{lang}").data = bodies.get(lang, "")
    elif form.validate_on_submit() and require_first(form, "body", course.languages):
        bodies = {lang: getattr(form, f"body_{lang}").data or "" for lang in course.languages}
        if request.form.get("action") == "preview":
            # The learners' renderer and sanitiser, so the preview is what they will see.
            files_base = f"/courses/{course.slug}/files"
            previews = {
                lang: lesson_html(body, files_base) for lang, body in bodies.items() if body.strip()
            }
        else:
            content.save_lesson(db.session(), item=item, bodies=bodies)
            return saved(url_for(".lesson", slug=slug, key=key), _("The lesson was saved."))
    else:
        status = 400
    return render_template(
        "studio/lesson.html", form=form, item=item, previews=previews, **page_context(course)
    ), status
