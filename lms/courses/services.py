"""Courses: the catalogue, lookups, and package import and export. Flushes; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from lms.accounts.models import Role, User
from lms.courses.models import Course, CourseFile, Item, Module, Tier, course_instructor
from lms.courses.package import store, writer
from lms.courses.package.loaded import LoadedPackage, Problem
from lms.courses.package.reader import read_package


class CourseNotFound(Exception):
    """No course has this slug (or it is a draft and drafts were not asked for)."""


class OwnerNotFound(Exception):
    """No account has the e-mail named as a course's owner."""


@dataclass(frozen=True)
class OutlineModule:
    """A module with the items learners see in it, in order."""

    module: Module
    items: list[Item]


def published_courses(
    session: Session,
    *,
    tier: str | None = None,
    language: str | None = None,
    sector: str | None = None,
    query: str | None = None,
) -> list[Course]:
    """Published courses by slug, narrowed by tier, content language, sector and title words."""
    statement = select(Course).where(Course.published.is_(True)).order_by(Course.slug)
    if tier:
        if tier not in set(Tier):
            return []
        statement = statement.where(Course.tier == Tier(tier))
    courses = list(session.scalars(statement))
    # Languages, sectors and titles are small JSON values: filtering them here stays portable
    # between SQLite and PostgreSQL, and the catalogue holds tens of courses, not millions.
    if language:
        courses = [c for c in courses if language in (c.languages or [])]
    if sector:
        courses = [c for c in courses if not c.sectors or sector in c.sectors]
    words = (query or "").casefold().split()
    if words:
        courses = [c for c in courses if _title_matches(c, words)]
    return courses


def _title_matches(course: Course, words: list[str]) -> bool:
    titles = " ".join((course.title or {}).values()).casefold()
    return all(word in titles for word in words)


def get_course(session: Session, slug: str, *, include_drafts: bool = False) -> Course:
    """The course with ``slug``; a draft only when ``include_drafts``."""
    course = session.scalar(select(Course).where(Course.slug == slug))
    if course is None or (not course.published and not include_drafts):
        raise CourseNotFound(slug)
    return course


def may_preview(session: Session, *, user: Any, course: Course) -> bool:
    """Whether ``user`` may see ``course`` while it is a draft: an admin, or its owner or a
    co-instructor who holds the instructor role (as for editing: a revoked instructor no
    longer reads the drafts they taught)."""
    if not is_staff(user):
        return False
    if user.has_role(Role.ADMIN) or course.owner_id == user.id:
        return True
    return bool(
        session.scalar(
            select(
                exists().where(
                    course_instructor.c.course_id == course.id,
                    course_instructor.c.user_id == user.id,
                )
            )
        )
    )


def is_staff(user: Any) -> bool:
    """Whether ``user`` may use the studio at all (instructor or admin)."""
    return bool(
        getattr(user, "is_authenticated", False) and user.has_any_role(Role.INSTRUCTOR, Role.ADMIN)
    )


def may_edit(session: Session, *, user: Any, course: Course) -> bool:
    """Owner, co-instructor (with the instructor role) or admin."""
    return is_staff(user) and may_preview(session, user=user, course=course)


def course_outline(course: Course) -> list[OutlineModule]:
    """The course's modules in order, each with its active items; empty modules left out."""
    outline = []
    for module in course.modules:
        items = [item for item in module.items if item.active]
        if items:
            outline.append(OutlineModule(module=module, items=items))
    return outline


def course_file(session: Session, *, course: Course, path: str) -> CourseFile | None:
    """The package file at ``path`` (relative, "/"-separated) kept with ``course``."""
    return session.scalar(
        select(CourseFile).where(CourseFile.course_id == course.id, CourseFile.path == path)
    )


def find_owner(session: Session, *, email: str) -> User:
    """The account that is to own imported courses."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        user = session.scalar(select(User).where(User.email == email.strip()))
    if user is None:
        raise OwnerNotFound(email)
    return user


def load_package(path: Path, *, label: str = "") -> tuple[LoadedPackage | None, list[Problem]]:
    """Read and check one package folder; the package is None when any problem was found."""
    return read_package(path, label=label)


def check_prerequisites(session: Session, *, package: LoadedPackage, importer: User) -> None:
    """Refuse prerequisites ``importer`` may not name: a course that is neither published nor
    a draft ``importer`` teaches (its title would show on the new course's page).

    Raises ``store.MissingPrerequisite``, as for an unknown slug, so that the answer does not
    tell another instructor's draft from a slug nobody uses.
    """
    for slug in package.prerequisites:
        required = session.scalar(select(Course).where(Course.slug == slug))
        if required is None or not (
            required.published or may_preview(session, user=importer, course=required)
        ):
            raise store.MissingPrerequisite(slug)


def import_package(
    session: Session,
    *,
    package: LoadedPackage,
    owner: User | None = None,
    importer: User | None = None,
) -> Course:
    """Create or update the course of a checked package (by slug, module and item ids).

    ``importer``: the instructor importing it (the studio), whose prerequisites are checked
    by ``check_prerequisites``; None for the operator's command line.
    """
    if importer is not None:
        check_prerequisites(session, package=package, importer=importer)
    return store.store_package(
        session, package=package, owner_id=owner.id if owner is not None else None
    )


def export_course(session: Session, *, slug: str) -> dict[str, bytes]:
    """The course's package files in canonical form, by relative path (drafts included)."""
    course = session.scalar(
        select(Course)
        .where(Course.slug == slug)
        .options(selectinload(Course.modules).selectinload(Module.items))
    )
    if course is None:
        raise CourseNotFound(slug)
    return writer.package_files(course)
