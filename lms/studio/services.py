"""The studio's rules: who may edit a course, the course itself, co-instructors, publishing,
and the outline (modules and items). Flushes; never commits."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from lms.accounts.models import Role, User
from lms.courses import services as courses
from lms.courses.models import (
    Course,
    Item,
    ItemKind,
    Lesson,
    Module,
    Quiz,
    Tier,
    course_instructor,
)
from lms.courses.package.writer import write_files
from lms.courses.services import is_staff, may_edit

KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KEY_MAX = 80


class NotAllowed(Exception):
    """The user may not do this to this course."""


class SlugTaken(Exception):
    """Another course already has this slug."""


class KeyTaken(Exception):
    """Another module or item of the course already has this id."""


class NoSuchUser(Exception):
    """No account has this e-mail."""


class NotAnInstructor(Exception):
    """The account does not hold the instructor role."""


class FirstLanguageFixed(Exception):
    """A published course keeps its first language."""


class NotReady(Exception):
    """The item lacks what learners need: questions, a released notebook, a lesson text."""


class PackageInvalid(Exception):
    """The course, written as a package, does not pass the package checks."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# -- who may do what ----------------------------------------------------------------------


def may_manage_instructors(user: Any, course: Course) -> bool:
    """Only the owner and admins add or remove co-instructors."""
    return is_staff(user) and (user.has_role(Role.ADMIN) or course.owner_id == user.id)


def editable_course(session: Session, *, user: Any, slug: str) -> Course:
    """The course ``slug`` if ``user`` may edit it; ``CourseNotFound`` or ``NotAllowed``."""
    course = courses.get_course(session, slug, include_drafts=True)
    if not may_edit(session, user=user, course=course):
        raise NotAllowed(slug)
    return course


def my_courses(session: Session, *, user: User) -> list[Course]:
    """Courses ``user`` owns or co-instructs (every course for an admin), by slug."""
    statement = select(Course).order_by(Course.slug)
    if not user.has_role(Role.ADMIN):
        taught = select(course_instructor.c.course_id).where(course_instructor.c.user_id == user.id)
        statement = statement.where((Course.owner_id == user.id) | Course.id.in_(taught))
    return list(session.scalars(statement))


# -- the course ---------------------------------------------------------------------------


@dataclass
class CourseFields:
    """What the course form edits."""

    slug: str
    tier: str
    sectors: list[str]
    languages: list[str]
    title: dict[str, str]
    summary: dict[str, str]


def _texts(
    texts: dict[str, str], languages: list[str], kept: dict[str, str] | None = None
) -> dict[str, str]:
    """The form's ``texts`` in ``languages``; ``kept`` texts in other languages stay (a
    language ticked again brings its texts back)."""
    others = {lang: text for lang, text in (kept or {}).items() if lang not in languages}
    return others | {lang: texts[lang].strip() for lang in languages if texts.get(lang, "").strip()}


def create_course(session: Session, *, owner: User, fields: CourseFields) -> Course:
    """A new draft course owned by ``owner``, with one empty module to start from."""
    if session.scalar(select(Course.id).where(Course.slug == fields.slug)) is not None:
        raise SlugTaken(fields.slug)
    course = Course(slug=fields.slug, owner_id=owner.id, published=False)
    _apply(course, fields)
    first = fields.languages[0]
    course.modules.append(
        Module(key="module-1", position=0, title={first: fields.title.get(first, fields.slug)})
    )
    session.add(course)
    session.flush()
    return course


def update_course(session: Session, *, course: Course, fields: CourseFields) -> Course:
    """Change a course's tier, sectors, languages and texts (the slug never changes).

    A published course keeps its first language (``FirstLanguageFixed``): every module, item,
    lesson and question has its required texts in it, so that the course always exports to a
    package that imports. Its other languages are optional texts, free to come and go."""
    if course.published and fields.languages[0] != course.languages[0]:
        raise FirstLanguageFixed(course.languages[0])
    _apply(course, fields)
    session.flush()
    return course


def _apply(course: Course, fields: CourseFields) -> None:
    course.tier = Tier(fields.tier)
    course.sectors = sorted(set(fields.sectors))
    course.languages = list(fields.languages)
    course.title = _texts(fields.title, fields.languages, course.title)
    course.summary = _texts(fields.summary, fields.languages, course.summary)


def co_instructors(session: Session, *, course: Course) -> list[User]:
    """The course's co-instructors by e-mail."""
    ids = select(course_instructor.c.user_id).where(course_instructor.c.course_id == course.id)
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.email)))


def add_co_instructor(session: Session, *, course: Course, email: str) -> User:
    """Let the instructor with ``email`` edit ``course`` too."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NoSuchUser(email)
    if not user.has_role(Role.INSTRUCTOR):
        raise NotAnInstructor(email)
    if user.id != course.owner_id and user not in co_instructors(session, course=course):
        session.execute(insert(course_instructor).values(course_id=course.id, user_id=user.id))
        session.flush()
    return user


def remove_co_instructor(session: Session, *, course: Course, user_id: int) -> None:
    """Take a co-instructor off ``course``."""
    session.execute(
        delete(course_instructor).where(
            course_instructor.c.course_id == course.id, course_instructor.c.user_id == user_id
        )
    )
    session.flush()


def check_package(session: Session, *, course: Course) -> list[str]:
    """Every ``file:line: message`` the package checker finds in the course as exported."""
    files = courses.export_course(session, slug=course.slug)
    with tempfile.TemporaryDirectory(prefix="oqu-studio-") as folder:
        root = Path(folder) / course.slug
        root.mkdir()
        write_files(root, files, remove_extra=False)
        _package, problems = courses.load_package(root)
    return [str(p) for p in problems]


def set_published(session: Session, *, course: Course, published: bool) -> Course:
    """Publish (after the package checks pass) or unpublish; learners' records stay as they are."""
    if published:
        problems = check_package(session, course=course)
        if problems:
            raise PackageInvalid(problems)
    course.published = published
    session.flush()
    return course


# -- the outline --------------------------------------------------------------------------


def _renumber(course: Course) -> None:
    """Items' course-wide positions follow module order, then item order."""
    position = 0
    for m, module in enumerate(sorted(course.modules, key=lambda mod: mod.position)):
        module.position = m
        for item in sorted(module.items, key=lambda it: it.position):
            item.position = position
            position += 1


def add_module(session: Session, *, course: Course, key: str, title: dict[str, str]) -> Module:
    """A new module at the end of the course."""
    if any(m.key == key for m in course.modules):
        raise KeyTaken(key)
    module = Module(key=key, title=title, position=len(course.modules))
    course.modules.append(module)
    session.flush()
    return module


def rename_module(session: Session, *, module: Module, title: dict[str, str]) -> Module:
    """Give a module new titles."""
    module.title = title
    session.flush()
    return module


def move_in_order(ordered: list[Any], target: Any, step: int) -> None:
    """Swap ``target`` with its neighbour ``step`` away, then renumber ``position`` from 0."""
    index = ordered.index(target)
    other = index + step
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, thing in enumerate(ordered):
        thing.position = position


def move_module(session: Session, *, module: Module, step: int) -> None:
    """Move a module one place up (-1) or down (+1)."""
    course = module.course
    move_in_order(sorted(course.modules, key=lambda m: m.position), module, step)
    _renumber(course)
    session.flush()


def add_item(
    session: Session, *, module: Module, key: str, kind: str, title: dict[str, str], required: bool
) -> Item:
    """A new item at the end of ``module``; its id (``key``) never changes afterwards.

    In a published course it starts hidden from learners (inactive), since it is still empty;
    ``restore_item`` shows it once it is ready."""
    course = module.course
    if (
        session.scalar(select(Item.id).where(Item.course_id == course.id, Item.key == key))
        is not None
    ):
        raise KeyTaken(key)
    item = Item(
        course_id=course.id,
        key=key,
        kind=ItemKind(kind),
        title=title,
        required=required,
        position=10**6,
        active=not course.published,
    )
    if item.kind == ItemKind.LESSON:
        item.lesson = Lesson(body={})
    elif item.kind == ItemKind.QUIZ:
        item.quiz = Quiz(pass_mark=1, max_attempts=None)
    module.items.append(item)
    session.flush()
    _renumber(course)
    session.flush()
    return item


def update_item(session: Session, *, item: Item, title: dict[str, str], required: bool) -> Item:
    """Change an item's titles and whether it is required (never its id)."""
    item.title = title
    item.required = required
    session.flush()
    return item


def move_item(session: Session, *, item: Item, step: int) -> None:
    """Move an item one place up or down; past its module's edge it joins the next module."""
    course = item.course
    modules = sorted(course.modules, key=lambda m: m.position)
    siblings = [i for i in sorted(item.module.items, key=lambda it: it.position)]
    index = siblings.index(item)
    if 0 <= index + step < len(siblings):
        move_in_order(siblings, item, step)
    else:
        where = modules.index(item.module) + step
        if 0 <= where < len(modules):
            target = modules[where]
            # Entering from above lands first; from below, last.
            positions = [i.position for i in target.items] or [0]
            item.position = min(positions) - 1 if step > 0 else max(positions) + 1
            item.module = target
    _renumber(course)
    session.flush()


def move_item_to(session: Session, *, item: Item, module: Module) -> None:
    """Put ``item`` at the end of another module of the same course."""
    if module.course_id != item.course_id:
        raise NotAllowed(module.key)
    item.position = max([i.position for i in module.items] or [0]) + 1
    item.module = module
    _renumber(item.course)
    session.flush()


def remove_item(session: Session, *, item: Item) -> None:
    """Take an item out of the course: marked inactive, never deleted (learners keep it)."""
    item.active = False
    session.flush()


def is_ready(item: Item) -> bool:
    """Whether learners could take ``item``: a quiz with questions, an assignment with its
    released notebook, a lesson with a text in the course's first language."""
    if item.kind == ItemKind.QUIZ:
        return item.quiz is not None and bool(item.quiz.questions)
    if item.kind == ItemKind.ASSIGNMENT:
        return item.assignment is not None
    first = item.course.languages[0]
    return item.lesson is not None and bool(item.lesson.body.get(first, "").strip())


def restore_item(session: Session, *, item: Item) -> None:
    """Put a removed (or new, hidden) item back where it was; in a published course only
    once it is ready (``NotReady``), as learners see it at once."""
    if item.course.published and not is_ready(item):
        raise NotReady(item.key)
    item.active = True
    session.flush()


def find_module(course: Course, module_id: int) -> Module | None:
    """The module of ``course`` with this database id."""
    return next((m for m in course.modules if m.id == module_id), None)


def find_item(session: Session, *, course: Course, key: str) -> Item | None:
    """The item of ``course`` with this id, removed or not."""
    return session.scalar(select(Item).where(Item.course_id == course.id, Item.key == key))
