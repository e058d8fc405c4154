"""Courses, their modules and items, and the content of each item kind."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, utcnow


class Tier(enum.StrEnum):
    PUBLIC = "public"
    SPECIALIST = "specialist"


class ItemKind(enum.StrEnum):
    LESSON = "lesson"
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"


class Reveal(enum.StrEnum):
    """When a learner sees per-question marks, explanations and the right answers."""

    ALWAYS = "always"
    AFTER_PASS_OR_LAST_ATTEMPT = "after-pass-or-last-attempt"


course_prerequisite = Table(
    "course_prerequisite",
    Base.metadata,
    Column("course_id", ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    Column("required_id", ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
)

course_instructor = Table(
    "course_instructor",
    Base.metadata,
    Column("course_id", ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Course(Base):
    """A course: texts per language, ordered modules, published or draft."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    tier: Mapped[Tier] = mapped_column(String(16), index=True)
    # Ordered; the first is the default for content missing in another language.
    languages: Mapped[list[str]]
    sectors: Mapped[list[str]]
    title: Mapped[dict[str, str]]
    summary: Mapped[dict[str, str]]
    version: Mapped[str] = mapped_column(String(32), default="1")
    published: Mapped[bool] = mapped_column(default=False, index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )
    items: Mapped[list[Item]] = relationship(
        back_populates="course", order_by="Item.position", viewonly=True
    )
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisite,
        primaryjoin=lambda: Course.id == course_prerequisite.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisite.c.required_id,
        order_by="Course.slug",
    )
    files: Mapped[list[CourseFile]] = relationship(
        back_populates="course", order_by="CourseFile.path", cascade="all, delete-orphan"
    )


class Module(Base):
    """An ordered group of items inside a course."""

    __tablename__ = "module"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[dict[str, str]]

    course: Mapped[Course] = relationship(back_populates="modules")
    items: Mapped[list[Item]] = relationship(
        back_populates="module", order_by="Item.position", cascade="all, delete-orphan"
    )


class Item(Base):
    """A lesson, quiz or notebook assignment with a stable ``key`` inside its course."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[ItemKind] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(default=True)
    # Global order inside the course (module order, then item order).
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[dict[str, str]]
    # False once removed from the course: kept so learners' records keep their item.
    active: Mapped[bool] = mapped_column(default=True)

    course: Mapped[Course] = relationship(back_populates="items")
    module: Mapped[Module] = relationship(back_populates="items")
    lesson: Mapped[Lesson | None] = relationship(
        back_populates="item", cascade="all, delete-orphan", uselist=False
    )
    quiz: Mapped[Quiz | None] = relationship(
        back_populates="item", cascade="all, delete-orphan", uselist=False
    )
    assignment: Mapped[Assignment | None] = relationship(
        back_populates="item", cascade="all, delete-orphan", uselist=False
    )


class Lesson(Base):
    """Markdown per language."""

    __tablename__ = "lesson"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("item.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[dict[str, str]]

    item: Mapped[Item] = relationship(back_populates="lesson")


class Quiz(Base):
    """Questions with a pass mark (a fraction of the points) and an optional attempt limit.

    ``max_attempts`` attempts make a round; once a round is used up, a new one opens
    ``retry_hours`` after its last attempt, so nobody is locked out for good. ``reveal`` says
    when marks and explanations are shown; ``exercise`` marks a hands-on task that needs no
    code (counted as such in bench/courses/run)."""

    __tablename__ = "quiz"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("item.id", ondelete="CASCADE"), primary_key=True
    )
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    max_attempts: Mapped[int | None]
    retry_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    reveal: Mapped[Reveal] = mapped_column(
        String(32), default=Reveal.ALWAYS, server_default=Reveal.ALWAYS.value
    )
    exercise: Mapped[bool] = mapped_column(default=False, server_default=false())

    item: Mapped[Item] = relationship(back_populates="quiz")
    questions: Mapped[list[Question]] = relationship(
        back_populates="quiz", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Base):
    """One quiz question. ``answer`` never leaves the server.

    ``kind`` names a kind of ``lms.courses.kinds``, which alone says what ``options`` (parts
    the learner sees: options, steps, pairs) and ``answer`` hold. ``scenario``: the question
    is a situation to judge, not the recall of a term.
    """

    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.item_id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[dict[str, str]]
    options: Mapped[list[Any]]
    answer: Mapped[dict[str, Any]]
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(1))
    explanation: Mapped[dict[str, str]] = mapped_column(default=dict)
    scenario: Mapped[bool] = mapped_column(default=False, server_default=false())

    quiz: Mapped[Quiz] = relationship(back_populates="questions")


class Assignment(Base):
    """An nbgrader notebook: the instructor's source, the master and the student version."""

    __tablename__ = "assignment"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("item.id", ondelete="CASCADE"), primary_key=True
    )
    notebook_name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(Text)
    master: Mapped[str] = mapped_column(Text)
    student: Mapped[str] = mapped_column(Text)
    pass_score: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    max_attempts: Mapped[int | None]
    auto_points: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(0))
    total_points: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(0))

    item: Mapped[Item] = relationship(back_populates="assignment")
    files: Mapped[list[AssignmentFile]] = relationship(
        back_populates="assignment", order_by="AssignmentFile.name", cascade="all, delete-orphan"
    )


class AssignmentFile(Base):
    """A data file shipped beside an assignment's notebook (learners download it too)."""

    __tablename__ = "assignment_file"
    __table_args__ = (UniqueConstraint("assignment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.item_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    assignment: Mapped[Assignment] = relationship(back_populates="files")


class CourseFile(Base):
    """A package file no item owns (an image a lesson shows): kept, served and exported."""

    __tablename__ = "course_file"
    __table_args__ = (UniqueConstraint("course_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    # Relative to the package folder, with "/" separators: "lessons/img/neuron.png".
    path: Mapped[str] = mapped_column(String(300))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    course: Mapped[Course] = relationship(back_populates="files")
