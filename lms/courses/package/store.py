"""Write a read package into the database, updating by slug and ids. Flushes; never commits.

Learners' records hang off items, so nothing a learner touched is ever deleted here: an item
that left the package is marked inactive, and completion facts are not looked at at all.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.courses.models import (
    Assignment,
    AssignmentFile,
    Course,
    CourseFile,
    Item,
    ItemKind,
    Lesson,
    Module,
    Question,
    Quiz,
    Reveal,
    Tier,
)
from lms.courses.package.loaded import LoadedAssignment, LoadedItem, LoadedPackage, LoadedQuiz


class MissingPrerequisite(Exception):
    """A prerequisite named by a package is not a course in the database."""


def store_package(
    session: Session, *, package: LoadedPackage, owner_id: int | None = None
) -> Course:
    """Create or update the course of ``package``; returns it."""
    course = session.scalar(select(Course).where(Course.slug == package.slug))
    if course is None:
        course = Course(slug=package.slug, owner_id=owner_id)
        session.add(course)
    elif owner_id is not None:
        course.owner_id = owner_id
    course.tier = Tier(package.tier)
    course.languages = list(package.languages)
    course.sectors = list(package.sectors)
    course.title = dict(package.title)
    course.summary = dict(package.summary)
    course.version = package.version
    course.published = package.published
    prerequisites = []
    for slug in package.prerequisites:
        required = session.scalar(select(Course).where(Course.slug == slug))
        if required is None:
            raise MissingPrerequisite(slug)
        prerequisites.append(required)
    course.prerequisites = prerequisites
    session.flush()
    _store_outline(session, course, package)
    _store_files(course, package.files)
    session.flush()
    return course


def _store_outline(session: Session, course: Course, package: LoadedPackage) -> None:
    modules = {
        m.key: m for m in session.scalars(select(Module).where(Module.course_id == course.id))
    }
    # Each item's content comes in a few queries for the whole course, not a few per item.
    items = {
        i.key: i
        for i in session.scalars(
            select(Item)
            .where(Item.course_id == course.id)
            .options(
                selectinload(Item.lesson),
                selectinload(Item.quiz).selectinload(Quiz.questions),
                selectinload(Item.assignment).selectinload(Assignment.files),
            )
        )
    }
    position = 0
    kept_modules: set[str] = set()
    kept_items: set[str] = set()
    for m, loaded_module in enumerate(package.modules):
        module = modules.get(loaded_module.key)
        if module is None:
            module = Module(course_id=course.id, key=loaded_module.key)
            session.add(module)
        module.position = m
        module.title = dict(loaded_module.title)
        session.flush()
        kept_modules.add(module.key)
        for loaded in loaded_module.items:
            item = items.get(loaded.key)
            if item is None:
                item = Item(course_id=course.id, key=loaded.key)
                session.add(item)
            item.module_id = module.id
            item.position = position
            position += 1
            item.required = loaded.required
            item.title = dict(loaded.title)
            item.active = True
            _store_content(session, item, loaded)
            kept_items.add(loaded.key)
    # What left the package goes to the end, inactive, still there for learners' records.
    for module in sorted(modules.values(), key=lambda mod: mod.position):
        if module.key not in kept_modules:
            module.position = len(package.modules) + module.position
    for item in sorted(items.values(), key=lambda it: it.position):
        if item.key not in kept_items:
            item.active = False
            item.position = position
            position += 1


def _store_content(session: Session, item: Item, loaded: LoadedItem) -> None:
    kind = ItemKind(loaded.kind)
    if item.id is not None and item.kind != kind:
        # A changed kind replaces the old content; progress rows keep pointing at the item.
        item.lesson = item.quiz = item.assignment = None
        session.flush()
    item.kind = kind
    if loaded.lesson is not None:
        if item.lesson is None:
            item.lesson = Lesson(body={})
        item.lesson.body = dict(loaded.lesson)
    if loaded.quiz is not None:
        _store_quiz(item, loaded.quiz)
    if loaded.assignment is not None:
        _store_assignment(item, loaded.assignment)


def _store_quiz(item: Item, loaded: LoadedQuiz) -> None:
    quiz = item.quiz
    if quiz is None:
        quiz = item.quiz = Quiz(pass_mark=loaded.pass_mark)
    quiz.pass_mark = loaded.pass_mark
    quiz.max_attempts = loaded.max_attempts
    quiz.retry_hours = loaded.retry_hours
    quiz.reveal = Reveal(loaded.reveal)
    quiz.exercise = loaded.exercise
    existing = {q.key: q for q in quiz.questions}
    questions = []
    for position, spec in enumerate(loaded.questions):
        question = existing.get(spec.key) or Question(key=spec.key)
        question.position = position
        question.kind = spec.kind
        question.prompt = dict(spec.prompt)
        question.options = list(spec.options)
        question.answer = dict(spec.answer)
        question.points = spec.points
        question.explanation = dict(spec.explanation)
        question.scenario = spec.scenario
        questions.append(question)
    # Attempts keep their answers by question key, so a dropped question can go.
    quiz.questions = questions


def _store_assignment(item: Item, loaded: LoadedAssignment) -> None:
    assignment = item.assignment
    if assignment is None:
        assignment = item.assignment = Assignment(
            notebook_name=loaded.notebook,
            source="",
            master="",
            student="",
            pass_score=loaded.pass_score,
        )
    assignment.notebook_name = loaded.notebook
    assignment.source = loaded.source
    assignment.master = loaded.master
    assignment.student = loaded.student
    assignment.pass_score = loaded.pass_score
    assignment.max_attempts = loaded.max_attempts
    assignment.auto_points = loaded.auto_points
    assignment.total_points = loaded.total_points
    existing = {f.name: f for f in assignment.files}
    files = []
    for name, content in sorted(loaded.files.items()):
        stored = existing.get(name) or AssignmentFile(name=name, content=content)
        stored.content = content
        files.append(stored)
    assignment.files = files


def _store_files(course: Course, files: dict[str, bytes]) -> None:
    existing = {f.path: f for f in course.files}
    kept = []
    for path, content in sorted(files.items()):
        stored = existing.get(path) or CourseFile(path=path, content=content)
        stored.content = content
        kept.append(stored)
    course.files = kept
