"""Courses built directly from the models, and helpers to enrol, read and answer."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lms.courses.models import Course, Item, Lesson, Module, Question, Quiz

_slugs = itertools.count(1)

LESSON_BODY = {
    "en": "# Neurons\n\nA **neuron** adds its inputs.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "ru": "# Нейроны\n\n**Нейрон** складывает входы.\n",
}

QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "capital",
        "kind": "single",
        "prompt": {"en": "Which city is the capital?", "ru": "Какой город столица?"},
        "options": [
            {"key": "astana", "text": {"en": "Astana", "ru": "Астана"}},
            {"key": "almaty", "text": {"en": "Almaty", "ru": "Алматы"}},
        ],
        "answer": {"keys": ["astana"]},
        "explanation": {
            "en": "Astana has been the capital since 1997.",
            "ru": "Астана — столица с 1997 года.",
        },
    },
    {
        "key": "ml",
        "kind": "multiple",
        "prompt": {"en": "Which are learning methods?", "ru": "Что из этого — методы обучения?"},
        "options": [
            {"key": "supervised", "text": {"en": "Supervised", "ru": "С учителем"}},
            {"key": "unsupervised", "text": {"en": "Unsupervised", "ru": "Без учителя"}},
            {"key": "teleport", "text": {"en": "Teleportation", "ru": "Телепортация"}},
        ],
        "answer": {"keys": ["supervised", "unsupervised"]},
    },
    {
        "key": "pi",
        "kind": "numeric",
        "prompt": {"en": "Half of seven?", "ru": "Половина семи?"},
        "answer": {"value": 3.5, "tolerance": 0.01},
    },
    {
        "key": "city",
        "kind": "text",
        "prompt": {"en": "Largest city?", "ru": "Крупнейший город?"},
        "answer": {"accepted": {"en": ["Almaty"], "ru": ["Алматы"]}},
    },
]

# Every answer right, as the form sends it.
RIGHT = {
    "q-capital": "astana",
    "q-ml": ["supervised", "unsupervised"],
    "q-pi": "3.5",
    "q-city": "Almaty",
}


def default_items() -> list[dict[str, Any]]:
    return [
        {"key": "intro", "kind": "lesson", "body": LESSON_BODY},
        {"key": "extra", "kind": "lesson", "required": False, "body": {"en": "Optional reading."}},
        {"key": "check", "kind": "quiz", "pass_mark": "0.75", "questions": QUESTIONS},
    ]


@pytest.fixture
def make_course(session: Session) -> Callable[..., Course]:
    """``make_course(items=[...], languages=[...], published=..., prerequisites=[...])``."""

    def make(
        *,
        slug: str | None = None,
        tier: str = "public",
        languages: list[str] | None = None,
        published: bool = True,
        prerequisites: list[Course] = (),
        owner_id: int | None = None,
        items: list[dict[str, Any]] | None = None,
        title: dict[str, str] | None = None,
    ) -> Course:
        slug = slug or f"course-{next(_slugs)}"
        course = Course(
            slug=slug,
            tier=tier,
            languages=languages or ["en", "ru"],
            sectors=[],
            title=title or {"en": f"Course {slug}", "ru": f"Курс {slug}"},
            summary={"en": "What you will learn.", "ru": "Чему вы научитесь."},
            published=published,
            owner_id=owner_id,
        )
        course.prerequisites = list(prerequisites)
        module = Module(key="m1", position=0, title={"en": "Basics", "ru": "Основы"})
        course.modules.append(module)
        session.add(course)
        session.flush()
        for spec in items if items is not None else default_items():
            add_item(session, course, spec)
        session.refresh(course)
        return course

    return make


def add_item(session: Session, course: Course, spec: dict[str, Any]) -> Item:
    """Add one item (lesson, quiz or assignment stub) at the end of the course's first module."""
    module = course.modules[0]
    position = max((i.position for i in module.items), default=-1) + 1
    item = Item(
        course_id=course.id,
        key=spec["key"],
        kind=spec["kind"],
        required=spec.get("required", True),
        position=position,
        title=spec.get("title", {"en": spec["key"].title(), "ru": spec["key"]}),
        active=spec.get("active", True),
    )
    module.items.append(item)
    session.flush()
    if spec["kind"] == "lesson":
        session.add(Lesson(item_id=item.id, body=spec.get("body", {"en": "Text."})))
    elif spec["kind"] == "quiz":
        quiz = Quiz(
            item_id=item.id,
            pass_mark=Decimal(spec.get("pass_mark", "0.5")),
            max_attempts=spec.get("max_attempts"),
            retry_hours=spec.get("retry_hours", 24),
            reveal=spec.get("reveal", "always"),
        )
        session.add(quiz)
        session.flush()
        for n, q in enumerate(spec.get("questions", QUESTIONS)):
            session.add(
                Question(
                    quiz_id=item.id,
                    key=q["key"],
                    position=n,
                    kind=q["kind"],
                    prompt=q["prompt"],
                    options=q.get("options", []),
                    answer=q["answer"],
                    points=Decimal(q.get("points", 1)),
                    explanation=q.get("explanation", {}),
                )
            )
    session.flush()
    session.refresh(item)
    session.refresh(module)
    return item


@pytest.fixture
def course(make_course: Callable[..., Course]) -> Course:
    return make_course()


@pytest.fixture
def learner(make_user):
    return make_user()


@pytest.fixture
def enrolled(session, course, learner):
    """The learner, enrolled in ``course`` in English."""
    from lms.learning import services

    enrollment = services.enrol(session, user=learner, course=course, language="en")
    session.flush()
    return enrollment
