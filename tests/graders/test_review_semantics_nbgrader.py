"""Edge cases graded by `graders.autograde.grade` and by real `nbgrader autograde` (0.9.6).

Every ``NBGRADER`` expectation below is what the real command line gave for the same
source notebook and submission (gradebook: auto_score, needs_manual_grade per grade id;
``None`` for the whole dict = nbgrader's autograde of the notebook failed, leaving every
grade at auto_score None / needs_manual_grade True). ``test_expectations_are_nbgrader``
(slow) re-derives them all from the real nbgrader in a temporary course directory.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from graders.release import release_notebook

from .conftest import code, solve, source_notebook

RIGHT = "def add(a, b):\n    return a + b"
FAILED = None  # nbgrader's autograde failed for the notebook


def gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _setup_source():
    src = source_notebook()
    src.cells.insert(1, code("import math", grade_id="setup", locked=True))
    src.cells[3].source = "assert math.isclose(add(1, 2), 3)"
    return src


def case_deleted_locked_setup_cell():
    """A read-only set-up cell (`import math`) deleted by the learner."""
    src = _setup_source()
    nb = solve(release_notebook(src).student, {"answer": RIGHT})
    nb.cells = [c for c in nb.cells if gid(c) != "setup"]
    return src, nb


def case_deleted_solution_cell_answer_elsewhere():
    """The learner deleted the solution cell and wrote the answer in a new first cell."""
    src = source_notebook()
    nb = solve(release_notebook(src).student, {})
    nb.cells = [c for c in nb.cells if gid(c) != "answer"]
    nb.cells.insert(0, v4.new_code_cell(RIGHT))
    return src, nb


def case_deleted_manual_answer():
    """The markdown manually graded answer cell was deleted."""
    src = source_notebook()
    nb = solve(release_notebook(src).student, {"answer": RIGHT})
    nb.cells = [c for c in nb.cells if gid(c) != "explain"]
    return src, nb


def case_skip_execution_tag_on_solution():
    """The learner tagged an old attempt `skip-execution` and answered in a new cell."""
    src = source_notebook()
    nb = solve(release_notebook(src).student, {"answer": "def add(a, b):\n    return 0"})
    answer = next(i for i, c in enumerate(nb.cells) if gid(c) == "answer")
    nb.cells[answer].metadata["tags"] = ["skip-execution"]
    nb.cells.insert(answer, v4.new_code_cell(RIGHT))
    return src, nb


def case_kernel_dies_after_tests():
    src = source_notebook()
    nb = solve(release_notebook(src).student, {"answer": RIGHT})
    nb.cells.append(v4.new_code_cell("import os; os._exit(1)"))
    return src, nb


def case_partial_credit_above_points():
    src = source_notebook()
    src.cells[2].source = "assert add(1, 2) == 3\n5"  # a 1-point test printing 5
    return src, solve(release_notebook(src).student, {"answer": RIGHT})


def case_copied_solution_cell():
    """The learner duplicated the solution cell (Jupyter copies its nbgrader metadata)."""
    src = source_notebook()
    nb = solve(release_notebook(src).student, {"answer": RIGHT})
    dup = copy.deepcopy(nb.cells[1])
    dup.pop("id", None)
    nb.cells.insert(2, dup)
    return src, nb


CASES = {
    "deleted_locked_setup_cell": (
        case_deleted_locked_setup_cell,
        {"test_add": (0.0, False), "test_hidden": (2.0, False), "explain": (0.0, False)},
    ),
    "deleted_solution_cell_answer_elsewhere": (
        case_deleted_solution_cell_answer_elsewhere,
        {"test_add": (1.0, False), "test_hidden": (2.0, False), "explain": (0.0, False)},
    ),
    "deleted_manual_answer": (
        case_deleted_manual_answer,
        {"test_add": (1.0, False), "test_hidden": (2.0, False), "explain": (None, True)},
    ),
    "skip_execution_tag_on_solution": (
        case_skip_execution_tag_on_solution,
        {"test_add": (1.0, False), "test_hidden": (2.0, False), "explain": (0.0, False)},
    ),
    "kernel_dies_after_tests": (case_kernel_dies_after_tests, FAILED),
    "partial_credit_above_points": (case_partial_credit_above_points, FAILED),
    "copied_solution_cell": (case_copied_solution_cell, FAILED),
}


# Where Oqu differs from nbgrader on purpose (graders/README.md):
# a deleted read-only cell comes back; a notebook whose kernel died, or whose test gave
# more than its points, or with a copied answer cell, is still graded rather than failed.
OURS = {
    "deleted_locked_setup_cell": (
        {"test_add": (1.0, False), "test_hidden": (2.0, False), "explain": (0.0, False)},
        "deleted-cell",
    ),
    "kernel_dies_after_tests": (
        {"test_add": (1.0, False), "test_hidden": (2.0, False), "explain": (0.0, False)},
        "kernel-stopped",
    ),
    "partial_credit_above_points": (
        {"test_add": (0.0, False), "test_hidden": (2.0, False), "explain": (0.0, False)},
        None,
    ),
    "copied_solution_cell": (
        {"test_add": (1.0, False), "test_hidden": (2.0, False), "explain": (0.0, False)},
        None,
    ),
}


def ours(grade_it, name, **settings):
    src, nb = CASES[name][0]()
    result = grade_it(release_notebook(src).master, nb, **settings)
    cells = {c.grade_id: (c.score, c.needs_manual_grade) for c in result.cells}
    return result, cells


@pytest.mark.parametrize("name", [n for n in CASES if n not in OURS])
def test_agrees_with_nbgrader(grade_it, name):
    result, cells = ours(grade_it, name)
    assert result.status == "graded"
    assert cells == CASES[name][1], result.flags


@pytest.mark.parametrize("name", list(OURS))
def test_differs_from_nbgrader_on_purpose(grade_it, name):
    result, cells = ours(grade_it, name)
    want, flag = OURS[name]
    assert result.status == "graded"
    assert cells == want
    assert CASES[name][1] != want  # nbgrader gives something else (see the oracle)
    if flag:
        assert flag in result.flags


# -- the oracle ----------------------------------------------------------------------

NBGRADER_SCRIPT = r"""
import json, os, sys
from pathlib import Path
import nbgrader.api as _api
_head = _api.get_alembic_version()
_api.get_alembic_version = lambda: _head  # one `alembic heads` instead of one per gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.api import Gradebook
from traitlets.config import Config
results = {}
for spec in json.loads(sys.argv[1]):
    course = Path(spec["dir"]); os.chdir(course)
    c = Config(); c.CourseDirectory.root = str(course); c.CourseDirectory.course_id = "rv"
    api = NbGraderAPI(config=c)
    assert api.generate_assignment("ps1", force=True)["success"]
    sub = course / "submitted" / "s1" / "ps1"; sub.mkdir(parents=True)
    (sub / "nb.ipynb").write_text((course / "submission.ipynb").read_text())
    r = api.autograde("ps1", "s1", force=True, create=True)
    with Gradebook(api.coursedir.db_url, "rv") as gb:
        nb = gb.find_submission_notebook("nb", "ps1", "s1")
        grades = {g.name: [g.auto_score, g.needs_manual_grade] for g in nb.grades}
    results[spec["name"]] = {"success": r["success"], "grades": grades}
print("@@" + json.dumps(results))
"""


def real_nbgrader(pairs: dict) -> dict:
    """Real `nbgrader generate_assignment` + `autograde` for {name: (source, submission)}."""
    root = Path(tempfile.mkdtemp(prefix="oqu-review-nbgrader-"))
    specs = []
    for name, (src, nb) in pairs.items():
        course = root / name
        (course / "source" / "ps1").mkdir(parents=True)
        nbformat.write(src, course / "source" / "ps1" / "nb.ipynb")
        nbformat.write(nb, course / "submission.ipynb")
        specs.append({"name": name, "dir": str(course)})
    bindir = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs `alembic`
    done = subprocess.run(
        [sys.executable, "-c", NBGRADER_SCRIPT, json.dumps(specs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    line = [x for x in done.stdout.splitlines() if x.startswith("@@")]
    assert line, done.stderr[-3000:]
    return json.loads(line[0][2:])


@pytest.mark.slow
def test_expectations_are_nbgrader():
    """The oracle for the tests above (passes when CASES holds what nbgrader gives)."""
    got = real_nbgrader({name: build() for name, (build, _) in CASES.items()})
    for name, (_, want) in CASES.items():
        res = got[name]
        if want is FAILED:
            assert not res["success"], name
            assert all(v == [None, True] for v in res["grades"].values()), name
        else:
            assert res["success"], name
            assert {k: tuple(v) for k, v in res["grades"].items()} == want, name
