"""Fixtures for course packages: a copy of the example package to break, and the CLI."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
EXAMPLE = COURSES / "example-package"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the example package, at ``<tmp>/pkgs/example-package``."""
    target = tmp_path / "pkgs" / "example-package"
    shutil.copytree(EXAMPLE, target)
    return target


@pytest.fixture
def cli(app: Flask) -> Callable[..., Result]:
    """Run ``flask courses ...`` against the test database."""
    runner = app.test_cli_runner()

    def run(*args: str) -> Result:
        return runner.invoke(args=["courses", *[str(a) for a in args]])

    return run


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in the file at ``path`` (it must be there)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_number(path: Path, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line containing ``fragment``."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{fragment!r} not found in {path}")
