"""Checks decided outside the kernel: what ``oqu_check`` sends, how it is compared, how
``release`` and ``record-checks`` treat the declarations, and the scores they give."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat import v4

from graders import checks
from graders.checks import CheckSpec, same
from graders.checks_local import MAX_ELEMENTS, to_tagged
from graders.errors import InvalidSource, RecordFailed
from graders.record import record_checks
from graders.release import release_notebook, validate_source

from .checknb import FILL, check, check_source, with_checks
from .conftest import by_id, code, solve

ROOT = Path(__file__).resolve().parents[2]
WRONG_FILL = "def fill(values):\n    return [0.0 if v is None else v for v in values]"
RIGHT_FILL = FILL.replace("    ### BEGIN SOLUTION\n", "").replace("\n    ### END SOLUTION", "")
RIGHT_TOTAL = "def total(values):\n    return sum(values)"


@pytest.fixture(scope="module")
def recorded(provider):
    from graders.settings import GraderSettings

    settings = GraderSettings(sandbox="off", cell_timeout=10.0, run_timeout=60.0)
    return record_checks(
        check_source(hidden_check=True), settings=settings, kernel_provider=provider
    )


@pytest.fixture(scope="module")
def release(recorded):
    return release_notebook(recorded)


# -- what the kernel sends ------------------------------------------------------------------


def test_values_are_sent_with_their_exact_types():
    assert to_tagged(True) == {"t": "bool", "v": True}
    assert to_tagged(1) == {"t": "int", "v": 1}
    assert to_tagged(np.int64(1)) == {"t": "int", "v": 1}
    assert to_tagged(float("nan")) == {"t": "float", "v": "nan"}
    assert to_tagged((1,))["t"] == "tuple" and to_tagged([1])["t"] == "list"
    frame = to_tagged(pd.DataFrame({"a": [1, 2], "b": ["x", None]}, index=[10, 20]))
    assert frame["index"]["v"] == [10, 20]
    assert frame["columns"]["v"] == ["a", "b"]
    assert frame["data"][1] == {"dtype": "str", "kind": "s", "v": ["x", None]}
    strings = to_tagged(pd.Series(["a", None], dtype="string"))
    assert strings["kind"] == "s" and strings["v"] == ["a", None]


def test_values_that_cannot_be_read_say_why():
    class Lying(pd.Series):
        def to_numpy(self, *a, **k):  # what a cheat would make it say
            return np.array([2.0])

    cycle: list = []
    cycle.append(cycle)
    assert to_tagged(Lying([9.0])) == {
        "t": "unreadable",
        "why": "type",
        "type": to_tagged(Lying([9.0]))["type"],
    }
    assert "Lying" in to_tagged(Lying([9.0]))["type"]
    assert to_tagged(cycle)["why"] == "cycle"
    assert to_tagged(list(range(MAX_ELEMENTS + 1)))["why"] == "size"
    assert to_tagged(np.zeros((MAX_ELEMENTS // 10 + 1, 10)))["why"] == "size"
    assert to_tagged(pd.Series([pd.Timestamp("2024-01-01")]))["why"] == "type"
    assert to_tagged({1: "a"})["why"] == "type"


def test_the_size_limit_is_checked_before_converting(monkeypatch):
    converted = []
    monkeypatch.setattr(
        pd.DataFrame, "iloc", property(lambda self: converted.append(1) or self._iloc_real)
    )
    big = pd.DataFrame(np.zeros((MAX_ELEMENTS // 2, 3)))
    assert to_tagged(big)["why"] == "size"
    assert converted == []


# -- how the grader compares ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "options", "equal"),
    [
        (True, 1, {}, False),
        (1, 1.0, {}, True),
        (1, 1.0, {"check_dtype": True}, False),
        ((1, 2), [1, 2], {}, False),
        ((1, 2), [1, 2], {"sequence": "any"}, True),
        (float("nan"), float("nan"), {}, True),
        (1.0, 1.0 + 1e-9, {}, True),
        (1.0, 1.01, {}, False),
        (1.0, 1.01, {"rtol": 0.05}, True),
        ([3, 1, 2], [1, 2, 3], {}, False),
        ([3, 1, 2], [1, 2, 3], {"order": False}, True),
        ("a", "A", {}, False),
        (np.array([1, 2]), np.array([1.0, 2.0]), {}, True),
        (np.array([1, 2]), np.array([True, True]), {}, False),
        (np.array([1, 2]), [1, 2], {}, False),
        (pd.Series([1.0], index=["a"]), pd.Series([1.0], index=["b"]), {}, False),
        (
            pd.Series([1.0], index=["a"]),
            pd.Series([1.0], index=["b"]),
            {"ignore_index": True},
            True,
        ),
        (
            pd.DataFrame({"a": [1, 2]}),
            pd.DataFrame({"a": [2, 1]}, index=[1, 0]),
            {"order": False},
            True,
        ),
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [1, 2]}), {}, False),
    ],
)
def test_comparison_rules(expected, actual, options, equal):
    spec = CheckSpec("c", **options)
    assert same(to_tagged(expected), to_tagged(actual), spec) is equal


# -- release ----------------------------------------------------------------------------------


def test_release_keeps_expected_values_in_the_master_only(release):
    master_checks = [c.metadata.get("oqu", {}).get("checks") for c in release.master.cells]
    assert any(master_checks)
    assert not any("oqu" in c.metadata for c in release.student.cells)
    student_text = nbformat.writes(release.student)
    assert "expected" not in student_text and "2.0" not in json.dumps(
        [c.metadata for c in release.student.cells]
    )


def _codes(nb) -> list[str]:
    return [p.code for p in validate_source(nb)]


def test_release_rejects_bad_declarations(recorded):
    def variant(change) -> list[str]:
        nb = copy.deepcopy(recorded)
        change(nb)
        with pytest.raises(InvalidSource) as caught:
            release_notebook(nb)
        return [p.code for p in caught.value.problems]

    def cell(nb, grade_id):
        return next(
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
        )

    def checks_of(nb):
        return cell(nb, "test_fill").metadata.oqu.checks

    assert variant(lambda nb: checks_of(nb)["filled"].pop("expected")) == ["check-no-expected"]
    assert variant(lambda nb: checks_of(nb)["filled"]["messages"].pop("kk")) == ["check-messages"]
    assert variant(lambda nb: checks_of(nb)["filled"].update(rtoll=1)) == ["check-invalid"]
    assert variant(lambda nb: checks_of(nb).update(Bad_Id=check({"t": "none"}))) == [
        "check-id-invalid"
    ]
    assert variant(lambda nb: checks_of(nb).update(unused=check({"t": "none"}))) == [
        "check-not-called"
    ]
    too_big = {"t": "list", "v": [{"t": "none"}] * (MAX_ELEMENTS + 1)}
    assert variant(lambda nb: checks_of(nb)["filled"].update(expected=too_big)) == [
        "check-expected-too-large"
    ]

    def undeclared(nb):
        cell(nb, "test_fill").source += '\noqu_check("other", 1)'

    assert variant(undeclared) == ["check-undeclared"]

    def on_answer(nb):
        cell(nb, "fill").metadata["oqu"] = {"checks": {"x": check({"t": "none"})}}

    assert variant(on_answer) == ["check-not-grade-cell"]

    def twice(nb):
        total = cell(nb, "test_total")
        total.source += '\noqu_check("filled", 1)'
        total.metadata["oqu"] = {"checks": {"filled": check({"t": "int", "v": 1})}}

    assert variant(twice) == ["check-duplicate-id"]


# -- record-checks ------------------------------------------------------------------------------


def test_record_checks_writes_each_expected_value(recorded):
    fill_checks = next(
        c for c in recorded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_fill"
    ).metadata.oqu.checks
    assert fill_checks["filled"]["expected"] == to_tagged([1.0, 2.0, 10.0, 2.0])
    assert fill_checks["length"]["expected"] == {"t": "int", "v": 4}
    assert fill_checks["hidden-sum"]["expected"] == {"t": "float", "v": 19.0}
    assert fill_checks["filled"]["messages"]["kk"].startswith("Медиана")


def test_record_checks_refuses_undeclared_and_missing_checks(provider, settings):
    nb = check_source()
    test = next(c for c in nb.cells if "oqu_check" in c.source)
    # Both only at run time: the text still names "length", which is never reached.
    test.source = test.source.replace(
        'oqu_check("length", ', 'if False:\n    oqu_check("length", 0)\noqu_check("len" + "gth2", '
    )
    with pytest.raises(RecordFailed) as caught:
        record_checks(nb, settings=settings.with_(cell_timeout=10.0), kernel_provider=provider)
    said = "\n".join(caught.value.messages)
    assert "check 'length' was declared but never sent" in said
    assert "check 'length2' was sent but is not declared here" in said


def test_record_checks_command_line(tmp_path):
    source = tmp_path / "source.ipynb"
    nbformat.write(check_source(), source)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LMS_GRADER_")}
    environ.update(LMS_GRADER_SANDBOX="off", LMS_GRADER_CELL_TIMEOUT="10")
    out = tmp_path / "recorded.ipynb"
    done = subprocess.run(
        [sys.executable, "-m", "graders", "record-checks", str(source), "-o", str(out)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 checks recorded" in done.stderr
    assert not validate_source(nbformat.read(out, as_version=4))
    assert validate_source(nbformat.read(source, as_version=4))  # the source is untouched


# -- scores -----------------------------------------------------------------------------------


def test_checks_decide_the_score(release, grade_it):
    right = grade_it(
        release.master, solve(release.student, {"fill": RIGHT_FILL, "total": RIGHT_TOTAL})
    )
    assert right.score == 3.0, right.cells
    fill = by_id(right)["test_fill"]
    assert [c["status"] for c in fill.checks] == ["passed", "passed", "passed"]
    wrong = grade_it(
        release.master, solve(release.student, {"fill": WRONG_FILL, "total": RIGHT_TOTAL})
    )
    fill = by_id(wrong)["test_fill"]
    assert fill.score == 0.0 and not fill.passed
    assert {c["id"]: c["status"] for c in fill.checks} == {
        "filled": "failed",
        "length": "passed",
        "hidden-sum": "failed",
    }
    assert by_id(wrong)["test_total"].score == 1.0


def test_printing_and_clear_output_cannot_drop_a_check(release, grade_it):
    noisy = RIGHT_FILL.replace(
        "def fill(values):\n",
        "from IPython.display import clear_output\n"
        "def fill(values):\n    print('x' * 200000)\n    clear_output()\n",
    )
    result = grade_it(
        release.master,
        solve(release.student, {"fill": noisy, "total": RIGHT_TOTAL}),
        output_cell_bytes=1024,
    )
    assert by_id(result)["test_fill"].score == 2.0


def test_check_values_never_reach_the_learners_feedback(release, grade_it):
    result = grade_it(
        release.master, solve(release.student, {"fill": WRONG_FILL, "total": RIGHT_TOTAL})
    )
    assert checks.CHECK_MIME not in by_id(result)["test_fill"].feedback_output
    assert not any("oqu" in c.metadata for c in result.feedback.cells)


def test_check_outputs_of_other_cells_are_ignored(release, grade_it):
    forging = WRONG_FILL + "\noqu_check('filled', [1.0, 2.0, 10.0, 2.0])"
    result = grade_it(
        release.master, solve(release.student, {"fill": forging, "total": RIGHT_TOTAL})
    )
    assert by_id(result)["test_fill"].score == 0.0


def test_a_cell_without_its_check_scores_nothing(recorded, grade_it):
    nb = copy.deepcopy(recorded)
    extra = with_checks(
        code(
            'oqu_check("never", 1)\nassert True', grade_id="t_x", grade=True, points=1, locked=True
        ),
        never=check({"t": "int", "v": 1}),
    )
    nb.cells.append(extra)
    released = release_notebook(nb)
    master = copy.deepcopy(released.master)
    master.cells[-1].source = "assert True"  # as if the call had gone from the master's code
    result = grade_it(master, solve(released.student, {"fill": RIGHT_FILL, "total": RIGHT_TOTAL}))
    assert by_id(result)["t_x"].score == 0.0
    assert by_id(result)["t_x"].checks[0]["status"] == "missing"


def test_assert_style_notebooks_are_unchanged(grade_it):
    released = release_notebook(
        v4.new_notebook(
            cells=[
                code(
                    RIGHT_TOTAL.replace("return", "### BEGIN SOLUTION\n    return")
                    + "\n    ### END SOLUTION",
                    grade_id="total",
                    solution=True,
                ),
                code("assert total([1, 2]) == 3", grade_id="t", grade=True, points=1),
            ]
        )
    )
    result = grade_it(released.master, solve(released.student, {"total": RIGHT_TOTAL}))
    assert result.score == 1.0 and by_id(result)["t"].checks == []


# -- the workspace's Run ----------------------------------------------------------------------


def test_run_compares_visible_checks_and_never_hidden_ones(release, provider, settings):
    from graders.workspace import run_cells

    draft = solve(release.student, {"fill": WRONG_FILL, "total": RIGHT_TOTAL})
    upto = next(c.id for c in draft.cells if "oqu_check" in c.source)
    result = run_cells(
        release.master, draft, upto=upto, settings=settings, kernel_provider=provider
    )
    ran = next(c for c in result.cells if c.cell_id == upto)
    assert {c["id"]: c["status"] for c in ran.checks} == {"filled": "failed", "length": "passed"}
    assert ran.checks[0]["messages"]["en"].startswith("Fill with the median")
    assert checks.CHECK_MIME not in json.dumps(ran.outputs)
