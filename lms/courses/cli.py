"""``flask courses import|export|canonicalize``: course packages on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from lms.courses import services
from lms.courses.package.batch import ImportResult, run_import
from lms.courses.package.writer import write_files
from lms.db import Base, db


@click.group("courses", help="Course packages: import, export, canonical form.")
def courses_group() -> None:
    pass


def _report(result: ImportResult) -> None:
    for problem in result.problems:
        click.echo(str(problem), err=True)
    summary = f"{len(result.imported)} imported"
    if result.failed or result.problems:
        summary += f", {len(set(result.failed))} not imported, {len(result.problems)} problems"
    click.echo(summary)


@courses_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--owner",
    "owner_email",
    metavar="EMAIL",
    help="Account that owns the imported courses (else they belong to admins).",
)
def import_command(path: Path, owner_email: str | None) -> None:
    """Import PATH: one package (holding course.toml) or a folder of packages."""
    result = run_import(db.session(), path, owner_email=owner_email, progress=click.echo)
    _report(result)
    if result.problems:
        sys.exit(1)


@courses_group.command("export")
@click.argument("slug")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the package into (as OUTPUT/SLUG/).",
)
def export_command(slug: str, output: Path) -> None:
    """Write course SLUG as a package in canonical form into OUTPUT/SLUG/."""
    try:
        files = services.export_course(db.session(), slug=slug)
    except services.CourseNotFound:
        click.echo(f"no course with slug {slug!r}", err=True)
        sys.exit(1)
    target = output / slug
    target.mkdir(parents=True, exist_ok=True)
    write_files(target, files, remove_extra=True)
    click.echo(f"{slug}: {len(files)} files written to {target}")


@courses_group.command("canonicalize")
@click.argument("path", type=click.Path(path_type=Path))
def canonicalize_command(path: Path) -> None:
    """Rewrite the package(s) at PATH in the canonical form export writes."""
    metadata = Base.metadata  # complete: create_app imported every feature's models

    # A throwaway database: the real one is never touched by canonicalising.
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    metadata.create_all(engine)
    with Session(engine) as session:
        result = run_import(session, path, progress=lambda _line: None, stub_prerequisites=True)
        for slug in result.imported:
            files = services.export_course(session, slug=slug)
            written, extra = write_files(result.roots[slug], files, remove_extra=False)
            state = f"{len(written)} files rewritten" if written else "already canonical"
            click.echo(f"{slug}: {state}")
            for rel in written:
                click.echo(f"  rewrote {rel}")
            for rel in extra:
                click.echo(f"  {rel}: not part of the package as exported", err=True)
    engine.dispose()
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if result.problems:
        sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(courses_group)
