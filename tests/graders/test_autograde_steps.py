"""``graders.autograde.grade``'s named steps, each on its own: prepare, execute_runs,
not_run, observe_runs, decide."""

from __future__ import annotations

import copy

from nbformat.notebooknode import NotebookNode

from graders.autograde import decide, execute_runs, not_run, observe_runs, prepare
from graders.errors import GraderError
from graders.execute import Run
from graders.kernel_io import error_output
from graders.release import release_notebook

from .checknb import check_source
from .conftest import solve, source_notebook

RIGHT = "def add(a, b):\n    return a + b"
CHEAT = "class Yes:\n    def __eq__(self, other):\n        return True\n" + RIGHT


def _released(hidden: bool = True):
    return release_notebook(source_notebook(hidden=hidden))


def test_prepare_sanitises_flags_the_source_and_keeps_declarations_out_of_feedback():
    released = _released()
    prepared = prepare(released.master, solve(released.student, {"answer": CHEAT}))
    assert "always-equal-object" in prepared.flags
    assert prepared.hidden is True
    assert [c.grade_id for c in prepared.spec] == ["test_add", "test_hidden", "explain"]
    assert "BEGIN HIDDEN TESTS" in "".join(c.source for c in prepared.scoring.cells)
    assert "BEGIN HIDDEN TESTS" not in "".join(c.source for c in prepared.feedback.cells)

    nb = check_source()
    for cell in nb.cells:  # expected values as record-checks would write them
        for data in cell.metadata.get("oqu", {}).get("checks", {}).values():
            data["expected"] = {"t": "none"}
    checked = release_notebook(nb)
    prepared = prepare(checked.master, copy.deepcopy(checked.student))
    assert set(prepared.checks["test_fill"]) == {"filled", "length"}
    assert not any("oqu" in c.metadata for c in prepared.feedback.cells)
    assert any("oqu" in c.metadata for c in prepared.scoring.cells)  # for instructors


def test_execute_runs_makes_a_feedback_run_only_for_hidden_tests(provider, settings):
    plain = _released(hidden=False)
    prepared = prepare(plain.master, solve(plain.student, {"answer": RIGHT}))
    scoring, feedback = execute_runs(prepared, provider, settings, None)
    assert scoring is feedback and scoring.status == "completed"
    hidden = _released()
    prepared = prepare(hidden.master, solve(hidden.student, {"answer": RIGHT}))
    scoring, feedback = execute_runs(prepared, provider, settings, None)
    assert scoring is not feedback
    assert "hidden-marker-42" in str(scoring.notebook) and "hidden-marker-42" not in str(
        feedback.notebook
    )


def test_not_run_fails_every_cell_and_says_whose_fault():
    released = _released()
    prepared = prepare(released.master, released.student)
    result = not_run(prepared, GraderError("no kernel"), 0.0)
    assert result.status == "failed" and result.reason_code == "kernel-unavailable"
    assert "no kernel" in result.reason and result.score == 0.0
    assert [c.score for c in result.cells] == [0.0, 0.0, None]
    assert "kernel-unavailable" in result.flags
    broken = not_run(prepared, RuntimeError("bug"), 0.0)
    assert broken.reason_code == "grader-error" and "bug" not in broken.reason


def _run(nb: NotebookNode, **fields) -> Run:
    return Run(notebook=copy.deepcopy(nb), **fields)


def test_observe_runs_turns_what_happened_into_flags_and_timings():
    released = _released()
    prepared = prepare(released.master, released.student)
    scoring = _run(prepared.scoring, status="stopped", forged=True, unconfirmed=True, seconds=2)
    scoring.probes["acquire_seconds"] = 0.5
    feedback = _run(prepared.feedback, seconds=1)
    flags = observe_runs(prepared, scoring, feedback)
    assert {"forged-messages", "unconfirmed-cell", "kernel-stopped"} <= set(flags)
    assert prepared.timings["acquire"] == 0.5 and prepared.timings["feedback_run"] == 1
    calm = prepare(released.master, released.student)
    assert observe_runs(calm, _run(calm.scoring), _run(calm.feedback)) == []


def test_decide_scores_a_run_and_fails_one_past_its_time_limit(settings):
    released = _released(hidden=False)
    prepared = prepare(released.master, solve(released.student, {"answer": RIGHT}))
    ran = _run(prepared.scoring)
    test = next(c for c in ran.notebook.cells if "assert add" in c.source)
    test.outputs = [error_output("AssertionError", "")]
    result = decide(prepared, ran, ran, flags=[], settings=settings, started=0.0)
    assert result.status == "graded"
    assert {c.grade_id: c.score for c in result.cells} == {
        "test_add": 0.0,
        "explain": 0.0,
    }  # unanswered
    late = decide(
        prepared, _run(prepared.scoring, status="timeout"), ran, flags=[], settings=settings,
        started=0.0,
    )  # fmt: skip
    assert late.status == "failed" and late.reason_code == "run-timeout" and late.score == 0.0
