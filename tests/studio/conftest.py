"""Studio fixtures: instructors, courses built through the studio's services, notebooks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.courses import services as courses
from lms.courses.models import Course
from lms.studio import services

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "courses" / "example-package"


@pytest.fixture
def instructor(make_user: Callable[..., User]) -> User:
    return make_user(roles=["instructor"])


@pytest.fixture
def make_studio_course(session: Session) -> Callable[..., Course]:
    """A draft course created as the studio creates one, with a lesson in its first module."""

    def make(
        owner: User, *, slug: str = "studio-course", languages: list[str] | None = None
    ) -> Course:
        languages = languages or ["en", "ru"]
        course = services.create_course(
            session,
            owner=owner,
            fields=services.CourseFields(
                slug=slug,
                tier="public",
                sectors=[],
                languages=languages,
                title={lang: f"Course {lang}" for lang in languages},
                summary={lang: f"Summary {lang}" for lang in languages},
            ),
        )
        item = services.add_item(
            session,
            module=course.modules[0],
            key="intro",
            kind="lesson",
            title={languages[0]: "Intro"},
            required=True,
        )
        item.lesson.body = {languages[0]: "# Hello"}
        session.flush()
        session.refresh(course)
        return course

    return make


@pytest.fixture
def example_course(session: Session, instructor: User) -> Course:
    """The example package of courses/, owned by ``instructor`` and published (the shipped
    package is an authors' draft; these tests need a course learners see)."""
    package, problems = courses.load_package(EXAMPLE)
    assert package is not None, problems
    course = courses.import_package(session, package=package, owner=instructor)
    course.published = True
    session.flush()
    session.refresh(course)
    return course


def nbgrader(cell_type: str, source: str, **meta: Any) -> dict[str, Any]:
    """A notebook cell with nbgrader metadata (schema 3) when ``meta`` is given."""
    cell: dict[str, Any] = {"cell_type": cell_type, "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    if meta:
        cell["metadata"]["nbgrader"] = {
            "grade": False,
            "solution": False,
            "locked": False,
            "task": False,
            "schema_version": 3,
            **meta,
        }
    return cell


def notebook(*cells: dict[str, Any]) -> bytes:
    """An nbformat-4 notebook's bytes."""
    nb = {
        "cells": list(cells),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    node = nbformat.from_dict(nb)
    for cell in node.cells:
        cell.setdefault("id", f"c{abs(hash(cell.source)) % 10**8}")
    return json.dumps(node).encode("utf-8")


def good_notebook() -> bytes:
    return notebook(
        nbgrader("markdown", "Write `double(x)`."),
        nbgrader(
            "code",
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            solution=True,
            grade_id="answer",
        ),
        nbgrader(
            "code",
            "assert double(2) == 4\n### BEGIN HIDDEN TESTS\n"
            "assert double(21) == 42  # secret-check\n### END HIDDEN TESTS",
            grade=True,
            locked=True,
            grade_id="tests",
            points=2,
        ),
        nbgrader(
            "markdown",
            "Explain your reasoning.\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
            grade=True,
            solution=True,
            grade_id="essay",
            points=1,
        ),
    )


@pytest.fixture
def to_grade(session: Session, make_user: Callable[..., User], example_course: Course) -> Any:
    """A graded submission of the example notebook with one cell ('essay') for a person."""
    from decimal import Decimal

    from sqlalchemy import select

    from lms.assignments.models import Submission, SubmissionStatus
    from lms.courses.models import Item
    from lms.learning.models import Enrollment

    learner = make_user()
    enrollment = Enrollment(user_id=learner.id, course_id=example_course.id, language="en")
    session.add(enrollment)
    session.flush()
    item = session.scalar(
        select(Item).where(Item.course_id == example_course.id, Item.key == "first-notebook")
    )
    row = Submission(
        enrollment_id=enrollment.id,
        item_id=item.id,
        user_id=learner.id,
        notebook=good_notebook().decode(),
        status=SubmissionStatus.GRADED,
        needs_manual_grade=True,
        manual_pending=1,
        score=Decimal(2),
        max_score=Decimal(3),
        auto_max_score=Decimal(2),
        result=[
            {"grade_id": "tests", "score": 2, "max_score": 2, "needs_manual_grade": False},
            {"grade_id": "essay", "score": None, "max_score": 1, "needs_manual_grade": True},
        ],
    )
    session.add(row)
    session.flush()
    return row
