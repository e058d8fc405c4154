"""Course packages as zip files: download one, upload one (checked before anything is read).

A zip is refused whole, with nothing imported, when any entry climbs out of its folder, is
a link, has a file type a package may not hold, or when it unpacks to too many files or too
many bytes (a zip bomb). What passes is unpacked into a private temporary folder and goes
through the package reader of ``lms.courses``, which reports ``file:line: message``.
Flushes; never commits.
"""

from __future__ import annotations

import io
import posixpath
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.courses import services as courses
from lms.courses.models import Course
from lms.courses.package.reader import ALLOWED_SUFFIXES
from lms.courses.package.store import MissingPrerequisite

MAX_FILES = 2000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


class ZipRefused(Exception):
    """The zip is unsafe or not a package zip; ``messages`` says why (nothing was read)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


class PackageProblems(Exception):
    """The package in the zip does not pass the checks; ``problems`` as ``file:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NotYourCourse(Exception):
    """A course with the package's slug exists and the uploader may not change it."""


def course_zip(session: Session, *, course: Course) -> bytes:
    """The course's canonical package as a zip, its files under ``<slug>/``."""
    files = courses.export_course(session, slug=course.slug)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel, content in files.items():
            info = zipfile.ZipInfo(f"{course.slug}/{rel}", date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


@dataclass
class _Entry:
    info: zipfile.ZipInfo
    rel: str


def _entries(archive: zipfile.ZipFile, *, max_files: int, max_bytes: int) -> list[_Entry]:
    """Every file entry, checked; ``ZipRefused`` lists every unsafe one."""
    messages: list[str] = []
    files: list[_Entry] = []
    total = 0
    infos = archive.infolist()
    if len(infos) > max_files:
        raise ZipRefused([f"the zip holds {len(infos)} entries; at most {max_files} are allowed"])
    for info in infos:
        name = info.filename
        mode = info.external_attr >> 16
        if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
            messages.append(f"{name}: absolute paths are not allowed")
            continue
        parts = name.split("/")
        if ".." in parts:
            messages.append(f"{name}: paths that climb out of the package ('..') are not allowed")
            continue
        if stat.S_ISLNK(mode):
            messages.append(f"{name}: links are not allowed")
            continue
        if info.is_dir():
            continue
        # Only the type bits count: ``ZipFile.writestr`` stores bare permissions (0o600).
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
            messages.append(f"{name}: not a regular file")
            continue
        rel = posixpath.normpath(name)
        suffix = posixpath.splitext(rel)[1].lower()
        if suffix not in ALLOWED_SUFFIXES or posixpath.basename(rel).startswith("."):
            messages.append(
                f"{name}: file type not allowed ({suffix or 'no extension'}); a "
                f"package holds only {' '.join(ALLOWED_SUFFIXES)}"
            )
            continue
        total += info.file_size
        files.append(_Entry(info, rel))
    if total > max_bytes:
        messages.append(f"the zip unpacks to {total} bytes; at most {max_bytes} are allowed")
    if messages:
        raise ZipRefused(messages)
    return files


def _package_prefix(entries: list[_Entry]) -> str:
    """``""`` when course.toml is at the top, ``"<folder>/"`` when all sits in one folder."""
    names = {e.rel for e in entries}
    if "course.toml" in names:
        return ""
    tops = {e.rel.split("/", 1)[0] for e in entries}
    if len(tops) == 1:
        top = tops.pop()
        if f"{top}/course.toml" in names:
            return f"{top}/"
    raise ZipRefused(
        [
            "no course.toml: the zip must hold one package, with course.toml at "
            "its top or inside a single folder"
        ]
    )


def _unpack(
    archive: zipfile.ZipFile, entries: list[_Entry], prefix: str, root: Path, max_bytes: int
) -> None:
    written = 0
    for entry in entries:
        target = root / entry.rel.removeprefix(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(entry.info) as source, target.open("wb") as out:
                # The sizes in the directory may lie: count what really comes out.
                while chunk := source.read(64 * 1024):
                    written += len(chunk)
                    if written > max_bytes:
                        raise ZipRefused([f"the zip unpacks to more than {max_bytes} bytes"])
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise ZipRefused([f"{entry.info.filename}: the zip is damaged ({error})"]) from error


def import_zip(
    session: Session,
    *,
    data: bytes,
    user: User,
    may_edit: Callable[[Course], bool],
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_UNPACKED_BYTES,
) -> Course:
    """Create or update a course from a package zip; the uploader owns a new course.

    ``may_edit(course) -> bool`` decides whether an existing course of that slug may be
    overwritten by ``user``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ZipRefused(["not a zip file"]) from error
    with archive, tempfile.TemporaryDirectory(prefix="oqu-upload-") as folder:
        entries = _entries(archive, max_files=max_files, max_bytes=max_bytes)
        prefix = _package_prefix(entries)
        root = Path(folder) / "package"
        root.mkdir()
        _unpack(archive, entries, prefix, root, max_bytes)
        package, problems = courses.load_package(root)
        if package is None:
            raise PackageProblems([str(p) for p in problems])
        existing = session.scalar(select(Course).where(Course.slug == package.slug))
        if existing is not None and not may_edit(existing):
            raise NotYourCourse(package.slug)
        try:
            # A savepoint: a package that fails half-way leaves nothing behind.
            with session.begin_nested():
                course = courses.import_package(
                    session,
                    package=package,
                    owner=user if existing is None else None,
                    importer=user,
                )
        except MissingPrerequisite as error:
            raise PackageProblems(
                [
                    f"course.toml: prerequisite {error.args[0]!r} is neither a published course "
                    "on this platform nor a draft you teach"
                ]
            ) from error
    return course
