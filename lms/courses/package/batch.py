"""Import a package or a folder of packages: each package in a transaction of its own.

This is the command's side of the import (like a view): it reads, orders by prerequisite,
calls the service for each package and commits or rolls back, one package at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.courses import services
from lms.courses.models import Course, Tier
from lms.courses.package.loaded import LoadedPackage, Problem

# Plain documents may sit beside packages (courses/README.md); they are not packages.
DOC_SUFFIXES = (".md", ".txt", ".rst")


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    roots: dict[str, Path] = field(default_factory=dict)


def discover(path: Path) -> tuple[list[tuple[Path, str]], list[Problem]]:
    """The package folders under ``path`` with their labels, and what is not a package."""
    if path.is_symlink():
        return [], [Problem(path.name, "symbolic links are not allowed")]
    if not path.exists():
        return [], [Problem(str(path), "no such folder")]
    if not path.is_dir():
        return [], [
            Problem(
                str(path),
                "not a folder: give the package's folder (or a folder of packages), not a file",
            )
        ]
    if (path / "course.toml").exists():
        return [(path, "")], []
    found: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for child in sorted(path.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_symlink():
            problems.append(Problem(child.name, "symbolic links are not allowed"))
        elif child.is_dir():
            if (child / "course.toml").exists():
                found.append((child, f"{child.name}/"))
            else:
                problems.append(Problem(f"{child.name}/", "not a course package (no course.toml)"))
        elif child.suffix.lower() not in DOC_SUFFIXES:
            problems.append(Problem(child.name, "neither a course package nor a document"))
    if not found and not problems:
        problems.append(Problem(str(path), "no course.toml here and no package folders in it"))
    return found, problems


def _order(packages: list[LoadedPackage]) -> tuple[list[LoadedPackage], list[Problem]]:
    """Prerequisites first; packages in a prerequisite cycle are reported, not imported."""
    by_slug = {p.slug: p for p in packages}
    ordered: list[LoadedPackage] = []
    state: dict[str, str] = {}
    problems: list[Problem] = []

    def visit(package: LoadedPackage, trail: list[str]) -> bool:
        mark = state.get(package.slug)
        if mark == "done":
            return True
        if mark == "visiting":
            cycle = " -> ".join([*trail[trail.index(package.slug) :], package.slug])
            problems.append(
                Problem(
                    package.label + "course.toml",
                    f"prerequisite cycle: {cycle}",
                    line=package.prerequisite_lines.get(trail[-1]),
                )
            )
            return False
        if mark == "broken":
            return False
        state[package.slug] = "visiting"
        ok = all(
            visit(by_slug[s], [*trail, package.slug]) for s in package.prerequisites if s in by_slug
        )
        state[package.slug] = "done" if ok else "broken"
        if ok:
            ordered.append(package)
        return ok

    for package in packages:
        visit(package, [])
    return ordered, problems


def run_import(
    session: Session,
    path: Path,
    *,
    owner_email: str | None = None,
    progress: Callable[[str], None] = print,
    stub_prerequisites: bool = False,
) -> ImportResult:
    """Import every package at ``path``; returns what was imported and every problem."""
    result = ImportResult()
    roots, problems = discover(path)
    result.problems += problems
    owner = None
    if owner_email:
        try:
            owner = services.find_owner(session, email=owner_email)
        except services.OwnerNotFound:
            result.problems.append(Problem("--owner", f"no account with e-mail {owner_email}"))
            return result
    loaded: list[LoadedPackage] = []
    for root, label in roots:
        package, found = services.load_package(root, label=label)
        if package is None:
            result.failed.append(label.rstrip("/") or root.name)
            result.problems += found
            progress(f"{label.rstrip('/') or root.name}: not imported ({len(found)} problems)")
        elif package.slug in result.roots:
            result.failed.append(package.slug)
            result.problems.append(
                Problem(f"{label}course.toml", f"slug {package.slug!r} is used by another package")
            )
        else:
            result.roots[package.slug] = root
            loaded.append(package)
    ordered, cycles = _order(loaded)
    result.problems += cycles
    for package in loaded:
        if package not in ordered:
            result.failed.append(package.slug)
    for package in ordered:
        missing = _missing_prerequisites(session, package, result, stub_prerequisites)
        if missing:
            result.problems += missing
            result.failed.append(package.slug)
            progress(f"{package.slug}: not imported ({len(missing)} problems)")
            continue
        try:
            course = services.import_package(session, package=package, owner=owner)
            session.commit()
        except Exception as exc:
            session.rollback()
            # The driver's own message ("disk full", "value too long"), without SQL.
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            result.problems.append(
                Problem(
                    f"{package.label}course.toml", f"import failed, nothing of it stored: {reason}"
                )
            )
            result.failed.append(package.slug)
            progress(f"{package.slug}: not imported (database error)")
            continue
        result.imported.append(package.slug)
        items = sum(len(m.items) for m in package.modules)
        progress(f"{course.slug}: imported ({len(package.modules)} modules, {items} items)")
    return result


def _missing_prerequisites(
    session: Session, package: LoadedPackage, result: ImportResult, stub: bool
) -> list[Problem]:
    problems = []
    for slug in package.prerequisites:
        if session.scalar(select(Course.id).where(Course.slug == slug)) is not None:
            continue
        if slug in result.failed:
            message = f"prerequisite {slug!r} was not imported"
        elif stub:
            # Canonicalising one package alone: a stand-in keeps the reference exportable.
            session.add(
                Course(
                    slug=slug,
                    tier=Tier.PUBLIC,
                    languages=["en"],
                    sectors=[],
                    title={"en": slug},
                    summary={"en": slug},
                )
            )
            session.flush()
            continue
        else:
            message = f"prerequisite {slug!r} is neither in the database nor in this import"
        problems.append(
            Problem(
                f"{package.label}course.toml", message, line=package.prerequisite_lines.get(slug)
            )
        )
    return problems
