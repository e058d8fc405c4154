"""Write a course from the database as a package in canonical form.

Canonical means one text per course: keys in a fixed order, texts in the order kk, ru, en,
lists whose order means nothing sorted, notebooks in nbformat's JSON style, other files
byte for byte. Importing a canonical package and exporting it gives the same bytes back.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from lms.courses import kinds
from lms.courses.kinds.base import texts_in_order
from lms.courses.models import Course, Item, ItemKind, Question, Quiz, Reveal
from lms.courses.package.notebooks import canonical_notebook
from lms.courses.package.tomltext import canonical_toml


def _texts(texts: dict[str, Any] | None) -> dict[str, Any]:
    return texts_in_order(texts)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _fraction(value: Decimal) -> float:
    return float(value)


def _item(item: Item) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": item.key, "kind": str(item.kind), "required": item.required}
    if item.kind == ItemKind.ASSIGNMENT and item.assignment is not None:
        entry["notebook"] = item.assignment.notebook_name
        entry["pass_score"] = _fraction(item.assignment.pass_score)
        if item.assignment.max_attempts is not None:
            entry["max_attempts"] = item.assignment.max_attempts
    entry["title"] = _texts(item.title)
    return entry


def course_document(course: Course) -> dict[str, Any]:
    """``course.toml`` as a dict in canonical key order."""
    modules = []
    for module in course.modules:
        items = [_item(item) for item in module.items if item.active]
        if items:
            modules.append({"id": module.key, "title": _texts(module.title), "items": items})
    return {
        "slug": course.slug,
        "tier": str(course.tier),
        "languages": list(course.languages),
        "sectors": sorted(course.sectors),
        "version": course.version,
        "published": course.published,
        "prerequisites": sorted(p.slug for p in course.prerequisites),
        "title": _texts(course.title),
        "summary": _texts(course.summary),
        "modules": modules,
    }


def _question(question: Question) -> dict[str, Any]:
    # Keys at their default are left out (scenario), so older packages stay as they were.
    entry: dict[str, Any] = {
        "id": question.key,
        "kind": str(question.kind),
        "points": _number(question.points),
    }
    if question.scenario:
        entry["scenario"] = True
    entry["prompt"] = _texts(question.prompt)
    if question.explanation:
        entry["explanation"] = _texts(question.explanation)
    # The kind's own keys; its plain values are written before the tables anyway.
    entry.update(kinds.get(question.kind).write_package(question))
    return entry


def quiz_document(quiz: Quiz) -> dict[str, Any]:
    """``quizzes/<id>.toml`` as a dict in canonical key order; settings at their default
    are left out."""
    document: dict[str, Any] = {"pass_mark": _fraction(quiz.pass_mark)}
    if quiz.max_attempts is not None:
        document["max_attempts"] = quiz.max_attempts
    if quiz.retry_hours != 24:
        document["retry_hours"] = quiz.retry_hours
    if quiz.reveal != Reveal.ALWAYS:
        document["reveal"] = str(quiz.reveal)
    if quiz.exercise:
        document["exercise"] = True
    document["questions"] = [_question(q) for q in quiz.questions]
    return document


def package_files(course: Course) -> dict[str, bytes]:
    """Every file of the course's package, by path relative to the package folder."""
    files = {"course.toml": canonical_toml(course_document(course)).encode("utf-8")}
    for item in course.items:
        if not item.active:
            continue
        if item.kind == ItemKind.LESSON and item.lesson is not None:
            for lang, body in _texts(item.lesson.body).items():
                files[f"lessons/{item.key}.{lang}.md"] = body.encode("utf-8")
        elif item.kind == ItemKind.QUIZ and item.quiz is not None:
            files[f"quizzes/{item.key}.toml"] = canonical_toml(quiz_document(item.quiz)).encode(
                "utf-8"
            )
        elif item.kind == ItemKind.ASSIGNMENT and item.assignment is not None:
            folder = f"notebooks/{item.assignment.notebook_name}/"
            files[f"{folder}{item.assignment.notebook_name}.ipynb"] = canonical_notebook(
                item.assignment.source
            ).encode("utf-8")
            for data in item.assignment.files:
                files[folder + data.name] = data.content
    for stored in course.files:
        files[stored.path] = stored.content
    return dict(sorted(files.items()))


def write_files(
    target: Path, files: dict[str, bytes], *, remove_extra: bool
) -> tuple[list[str], list[str]]:
    """Make ``target`` hold ``files``; returns the paths written and those not in ``files``."""
    written = []
    for rel, content in files.items():
        path = target / rel
        if path.is_file() and not path.is_symlink() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(rel)
    extra = sorted(
        p.relative_to(target).as_posix()
        for p in target.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.relative_to(target).as_posix() not in files
    )
    if remove_extra:
        for rel in extra:
            (target / rel).unlink()
        for folder in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
    return written, extra
