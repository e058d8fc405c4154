"""Packages in canonical form come back byte for byte from import then export."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from tests.courses.conftest import COURSES, edit

PACKAGES = sorted(p.parent for p in COURSES.glob("*/course.toml"))


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _prerequisite_folders(package: Path) -> list[Path]:
    """The packages in courses/ that ``package`` needs, those they need coming first."""
    found: list[Path] = []
    for slug in tomllib.loads((package / "course.toml").read_text("utf-8")).get(
        "prerequisites", []
    ):
        for folder in [*_prerequisite_folders(COURSES / slug), COURSES / slug]:
            if folder not in found:
                found.append(folder)
    return found


def test_the_example_package_is_shipped() -> None:
    assert COURSES / "example-package" in PACKAGES


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_import_then_export_gives_every_file_back(cli, tmp_path: Path, package: Path) -> None:
    # Prerequisites must exist first: import them, then this package alone.
    for needed in [*_prerequisite_folders(package), package]:
        result = cli("import", needed)
        assert result.exit_code == 0, result.stderr
    slug = package.name
    out = tmp_path / "out"
    exported = cli("export", slug, "-o", out)
    assert exported.exit_code == 0, exported.stderr
    assert _files(out / slug) == _files(package)


def test_export_of_an_unknown_course_fails(cli, tmp_path: Path) -> None:
    result = cli("export", "no-such-course", "-o", tmp_path)
    assert result.exit_code != 0
    assert "no course with slug 'no-such-course'" in result.stderr


def test_export_replaces_a_stale_copy(cli, tmp_path: Path, example: Path) -> None:
    assert cli("import", example).exit_code == 0
    stale = tmp_path / "out" / "example-package" / "lessons" / "old.en.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("# gone\n", encoding="utf-8")
    assert cli("export", "example-package", "-o", tmp_path / "out").exit_code == 0
    assert not stale.exists()
    assert _files(tmp_path / "out" / "example-package") == _files(example)


def test_canonicalize_rewrites_a_package_in_canonical_form(cli, session, example: Path) -> None:
    before = _files(example)
    # What an author might write by hand: another key order, spacing, short forms.
    edit(
        example / "course.toml",
        'slug = "example-package"\ntier = "public"',
        'tier   =  "public"\nslug = "example-package"',
    )
    edit(
        example / "course.toml", 'languages = ["kk", "ru", "en"]', "languages = [ 'kk','ru','en' ]"
    )
    edit(
        example / "quizzes/basics-quiz.toml",
        'id = "programmer"\ncorrect = false\n',
        'id = "programmer"\n',
    )
    notebook = example / "notebooks/first-notebook/first-notebook.ipynb"
    notebook.write_text(
        notebook.read_text(encoding="utf-8").replace("\n ", "\n    "), encoding="utf-8"
    )
    result = cli("canonicalize", example)
    assert result.exit_code == 0, result.stderr
    assert "example-package: 3 files rewritten" in result.stdout
    assert _files(example) == before
    again = cli("canonicalize", example)
    assert "example-package: already canonical" in again.stdout
    # The real database is untouched: canonicalising uses a throwaway one.
    from sqlalchemy import func, select

    from lms.courses.models import Course

    assert session.scalar(select(func.count()).select_from(Course)) == 0


def test_canonicalize_reports_problems_and_changes_nothing(cli, example: Path) -> None:
    edit(example / "course.toml", 'kind = "quiz"', 'kind = "exam"')
    before = _files(example)
    result = cli("canonicalize", example)
    assert result.exit_code != 0
    assert "'exam' is not one of" in result.stderr
    assert _files(example) == before


def test_package_with_a_prerequisite_canonicalizes_alone(cli, example: Path) -> None:
    edit(example / "course.toml", "prerequisites = []", 'prerequisites = ["ai-for-everyone"]')
    before = _files(example)
    result = cli("canonicalize", example)
    assert result.exit_code == 0, result.stderr
    assert _files(example) == before


def test_copy_of_whole_folder_is_already_canonical(cli, tmp_path: Path) -> None:
    copy = tmp_path / "courses"
    shutil.copytree(COURSES, copy)
    result = cli("canonicalize", copy)
    assert result.exit_code == 0, result.stderr
    assert _files(copy) == _files(COURSES)
