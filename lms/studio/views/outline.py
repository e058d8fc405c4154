"""The outline: modules and items, their order, adding, moving and removing."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from lms.courses.models import Course, Item, ItemKind
from lms.db import db
from lms.i18n import LANGUAGE_NAMES, LANGUAGES
from lms.security import roles_required
from lms.studio import services
from lms.studio.forms import (
    ActionForm,
    ItemForm,
    ItemSettingsForm,
    ModuleForm,
    ModuleTitleForm,
    MoveToModuleForm,
    require_first,
    texts,
)
from lms.studio.views import (
    bp,
    course_or_abort,
    item_or_404,
    move_step,
    page_context,
    saved,
)
from lms.studio.views.courses import STAFF

EDITORS = {ItemKind.LESSON: ".lesson", ItemKind.QUIZ: ".quiz", ItemKind.ASSIGNMENT: ".assignment"}


def _module_choices(course: Course) -> list[SelectChoice]:
    text = page_context(course)["text"]
    return [SelectChoice(m.id, f"{m.key}: {text(m.title)}") for m in course.modules]


def _outline_page(
    course: Course,
    *,
    module_form: ModuleForm | None = None,
    item_form: ItemForm | None = None,
    status: int = 200,
) -> Any:
    if item_form is None:
        item_form = ItemForm(formdata=None)
        # A course is built from top to bottom: a new item goes to the last module unless
        # the instructor picks another.
        item_form.module.data = course.modules[-1].id if course.modules else None
    item_form.module.choices = _module_choices(course)
    move_form = MoveToModuleForm(formdata=None)
    move_form.module.choices = _module_choices(course)
    return render_template(
        "studio/outline.html",
        action=ActionForm(),
        module_form=module_form or ModuleForm(formdata=None),
        item_form=item_form,
        move_form=move_form,
        title_form=ModuleTitleForm(formdata=None),
        editors=EDITORS,
        ready=services.is_ready,
        **page_context(course),
    ), status


@bp.get("/courses/<slug>")
@roles_required(*STAFF)
def outline(slug: str) -> Any:
    return _outline_page(course_or_abort(slug))


@bp.post("/courses/<slug>/modules")
@roles_required(*STAFF)
def add_module(slug: str) -> Any:
    course = course_or_abort(slug)
    form = ModuleForm()
    ok = form.validate_on_submit()
    ok = require_first(form, "title", course.languages) and ok
    if ok:
        try:
            services.add_module(
                db.session(),
                course=course,
                key=form.key.data,
                title=texts(form, "title", course.languages),
            )
        except services.KeyTaken:
            form.key.errors = [_("Another module of this course already uses this id.")]
        else:
            return saved(url_for(".outline", slug=slug), _("The module was added."))
    return _outline_page(course, module_form=form, status=400)


def _module_or_404(course: Course, module_id: int) -> Any:
    module = services.find_module(course, module_id)
    if module is None:
        abort(404)
    return module


@bp.post("/courses/<slug>/modules/<int:module_id>/title")
@roles_required(*STAFF)
def rename_module(slug: str, module_id: int) -> Any:
    course = course_or_abort(slug)
    module = _module_or_404(course, module_id)
    form = ModuleTitleForm()
    if form.validate_on_submit() and require_first(form, "title", course.languages):
        services.rename_module(
            db.session(), module=module, title=texts(form, "title", course.languages)
        )
        db.session().commit()
        flash(_("The module was renamed."), "success")
    else:
        flash(_("A module needs a title in the course's first language."), "error")
    return redirect(url_for(".outline", slug=slug), code=303)


@bp.post("/courses/<slug>/modules/<int:module_id>/move")
@roles_required(*STAFF)
def move_module(slug: str, module_id: int) -> Any:
    course = course_or_abort(slug)
    module = _module_or_404(course, module_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.move_module(db.session(), module=module, step=move_step())
    return saved(url_for(".outline", slug=slug, _anchor=f"module-{module.key}"))


@bp.post("/courses/<slug>/items")
@roles_required(*STAFF)
def add_item(slug: str) -> Any:
    course = course_or_abort(slug)
    form = ItemForm()
    form.module.choices = _module_choices(course)
    ok = form.validate_on_submit()
    ok = require_first(form, "title", course.languages) and ok
    if ok:
        module = _module_or_404(course, form.module.data)
        try:
            item = services.add_item(
                db.session(),
                module=module,
                key=form.key.data,
                kind=form.kind.data,
                required=form.required.data,
                title=texts(form, "title", course.languages),
            )
        except services.KeyTaken:
            form.key.errors = [_("Another item of this course already uses this id.")]
        else:
            return saved(
                url_for(EDITORS[item.kind], slug=slug, key=item.key),
                _("The item was added.")
                if item.active
                else _(
                    "The item was added, hidden from learners as the course is "
                    "published. It goes live when it is ready and you press “Show "
                    "to learners” in the outline."
                ),
            )
    return _outline_page(course, item_form=form, status=400)


@bp.route("/courses/<slug>/items/<key>/settings", methods=["GET", "POST"])
@roles_required(*STAFF)
def item_settings(slug: str, key: str) -> Any:
    course = course_or_abort(slug)
    item = item_or_404(course, key)
    form = ItemSettingsForm()
    if not form.is_submitted():
        form.required.data = item.required
        for lang in LANGUAGES:
            getattr(form, f"title_{lang}").data = item.title.get(lang, "")
    elif form.validate_on_submit() and require_first(form, "title", course.languages):
        services.update_item(
            db.session(),
            item=item,
            required=form.required.data,
            title=texts(form, "title", course.languages),
        )
        return saved(url_for(".outline", slug=slug), _("The item was saved."))
    return render_template(
        "studio/item_settings.html", form=form, item=item, **page_context(course)
    ), 400 if form.is_submitted() else 200


@bp.post("/courses/<slug>/items/<key>/move")
@roles_required(*STAFF)
def move_item(slug: str, key: str) -> Any:
    course = course_or_abort(slug)
    item = item_or_404(course, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.move_item(db.session(), item=item, step=move_step())
    return saved(url_for(".outline", slug=slug, _anchor=f"item-{item.key}"))


@bp.post("/courses/<slug>/items/<key>/module")
@roles_required(*STAFF)
def move_item_to(slug: str, key: str) -> Any:
    course = course_or_abort(slug)
    item = item_or_404(course, key)
    form = MoveToModuleForm()
    form.module.choices = _module_choices(course)
    if not form.validate_on_submit():
        abort(400)
    services.move_item_to(db.session(), item=item, module=_module_or_404(course, form.module.data))
    return saved(url_for(".outline", slug=slug, _anchor=f"item-{item.key}"))


@bp.post("/courses/<slug>/items/<key>/remove")
@roles_required(*STAFF)
def remove_item(slug: str, key: str) -> Any:
    course = course_or_abort(slug)
    item = item_or_404(course, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.remove_item(db.session(), item=item)
    return saved(
        url_for(".outline", slug=slug),
        _("The item was removed from the course; learners keep what they did in it."),
    )


@bp.post("/courses/<slug>/items/<key>/restore")
@roles_required(*STAFF)
def restore_item(slug: str, key: str) -> Any:
    course = course_or_abort(slug)
    item = item_or_404(course, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.restore_item(db.session(), item=item)
    except services.NotReady:
        flash(_not_ready(course, item), "error")
        return redirect(url_for(".outline", slug=slug, _anchor=f"item-{item.key}"), code=303)
    return saved(url_for(".outline", slug=slug), _("The item is back in the course."))


def _not_ready(course: Course, item: Item) -> str:
    if item.kind == ItemKind.QUIZ:
        return _("The quiz stays hidden from learners until it has at least one question.")
    if item.kind == ItemKind.ASSIGNMENT:
        return _("The assignment stays hidden from learners until its notebook is uploaded.")
    return _(
        "The lesson stays hidden from learners until it has a text in the course's first "
        "language (%(lang)s).",
        lang=LANGUAGE_NAMES[course.languages[0]],
    )
