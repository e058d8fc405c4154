"""nbgrader's own example course: every per-cell auto score and manual flag, as nbgrader gave."""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from graders.autograde import grade
from graders.release import release_notebook
from graders.settings import GraderSettings

COURSE = Path("conformance") / "nbgrader-docs-ps1"


@pytest.fixture(scope="module")
def course(shared_dir: Path) -> Path:
    path = shared_dir / COURSE
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


def expected(course: Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    rows: dict[tuple[str, str], list[dict[str, str]]] = {}
    with open(course / "expected_cell_scores.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault((row["student"], row["notebook"]), []).append(row)
    return rows


def test_every_cell_score_matches_nbgrader(course, provider):
    settings = GraderSettings(sandbox="off", cell_timeout=10.0, run_timeout=60.0)
    header = nbformat.read(course / "source" / "header.ipynb", as_version=4)
    table = expected(course)
    submissions = sorted(course.glob("submitted/*/ps1/*.ipynb"))
    assert {(p.parts[-3], p.stem) for p in submissions} == set(table)
    checked = 0
    for path in submissions:
        student, notebook = path.parts[-3], path.stem
        source = nbformat.read(course / "source" / "ps1" / path.name, as_version=4)
        master = release_notebook(source, header=header).master
        files = {"jupyter.png": (path.parent / "jupyter.png").read_bytes()}
        result = grade(
            master,
            nbformat.read(path, as_version=4),
            settings=settings,
            kernel_provider=provider,
            files=files,
        )
        assert result.status == "graded", result.reason
        cells = {c.grade_id: c for c in result.cells}
        rows = table[(student, notebook)]
        assert [r["grade_id"] for r in rows] == [c.grade_id for c in result.cells]
        for row in rows:
            cell = cells[row["grade_id"]]
            where = f"{student}/{notebook}/{row['grade_id']}"
            want = None if row["auto_score"] == "" else float(row["auto_score"])
            assert cell.score == want, where
            assert cell.needs_manual_grade == (row["needs_manual_grade"] == "True"), where
            assert cell.max_score == float(row["max_score"]), where
            checked += 1
        assert result.max_score == sum(float(r["max_score"]) for r in rows)
    assert checked == 18
