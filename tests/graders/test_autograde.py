"""Autograde: nbgrader's scores, tampering gains nothing, hidden tests never reach feedback."""

from __future__ import annotations

import copy

from nbformat import v4

from .conftest import SECRET, by_id, meta, solve

RIGHT = "def add(a, b):\n    return a + b"
WRONG = "def add(a, b):\n    return a - b"


def test_a_right_answer_scores_every_auto_point(released, grade_it):
    answers = {"answer": RIGHT, "explain": "It adds."}
    result = grade_it(released.master, solve(released.student, answers))
    cells = by_id(result)
    assert result.status == "graded"
    assert (result.score, result.max_score, result.auto_max_score) == (3.0, 4.0, 3.0)
    assert cells["test_add"].passed and cells["test_hidden"].passed
    assert cells["explain"].score is None and cells["explain"].needs_manual_grade
    assert result.needs_manual_grade
    assert "visible test ran" in cells["test_add"].feedback_output
    assert cells["test_hidden"].feedback_output == ""
    assert result.flags == []


def test_a_wrong_answer_scores_zero_and_shows_the_visible_failure(released, grade_it):
    result = grade_it(released.master, solve(released.student, {"answer": WRONG}))
    cells = by_id(result)
    assert result.score == 0.0
    assert not cells["test_add"].passed
    assert "AssertionError" in cells["test_add"].feedback_output


def test_an_unanswered_manual_cell_scores_zero_and_an_answered_one_needs_a_person(
    released, grade_it
):
    unanswered = by_id(grade_it(released.master, solve(released.student, {"answer": RIGHT})))
    assert (unanswered["explain"].score, unanswered["explain"].needs_manual_grade) == (0.0, False)
    nb = solve(released.student, {"answer": RIGHT, "explain": "Because a + b is the sum."})
    answered = grade_it(released.master, nb)
    assert by_id(answered)["explain"].score is None
    assert by_id(answered)["explain"].needs_manual_grade and answered.needs_manual_grade
    assert answered.score == 3.0 and answered.max_score == 4.0


def test_editing_a_test_cell_gains_nothing(released, grade_it):
    nb = solve(released.student, {"answer": WRONG, "test_add": "pass", "test_hidden": "pass"})
    result = grade_it(released.master, nb)
    assert result.score == 0.0
    assert "edited-locked-cell" in result.flags


def test_deleting_a_test_cell_gains_nothing(released, grade_it):
    nb = solve(released.student, {"answer": WRONG})
    nb.cells = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") not in ("test_add", "test_hidden")
    ]
    result = grade_it(released.master, nb)
    assert [c.grade_id for c in result.cells] == ["test_add", "test_hidden", "explain"]
    assert result.score == 0.0 and not by_id(result)["test_add"].passed
    assert "deleted-cell" in result.flags
    restored = [
        c.metadata.nbgrader["grade_id"] for c in result.executed.cells if "nbgrader" in c.metadata
    ]
    assert restored == ["answer", "test_add", "test_hidden", "explain"]


def test_a_forged_grade_cell_earns_nothing(released, grade_it):
    nb = solve(released.student, {"answer": WRONG})
    nb.cells.append(v4.new_code_cell("pass", metadata=meta("bonus", grade=True, points=100)))
    nb.cells.append(v4.new_code_cell("pass", metadata={"nbgrader": {"grade": True}}))
    result = grade_it(released.master, nb)
    assert "bonus" not in by_id(result)
    assert (result.score, result.max_score) == (0.0, 4.0)
    assert "unknown-grade-cell" in result.flags


def test_changed_cell_metadata_gains_nothing(released, grade_it):
    nb = solve(released.student, {"answer": WRONG})
    for cell in nb.cells:
        info = cell.metadata.get("nbgrader", {})
        if info.get("grade_id") == "test_add":
            info["points"] = 100
        if info.get("grade_id") == "test_hidden":
            info["grade"] = False  # "not a test any more"
            cell.cell_type = "markdown"
            del cell["outputs"], cell["execution_count"]
    result = grade_it(released.master, nb)
    cells = by_id(result)
    assert (cells["test_add"].max_score, cells["test_add"].score) == (1.0, 0.0)
    assert cells["test_hidden"].score == 0.0
    assert "changed-cell-metadata" in result.flags


def test_a_duplicated_test_cell_is_graded_once(released, grade_it):
    nb = solve(released.student, {"answer": RIGHT})
    test = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_add"]
    nb.cells.insert(0, copy.deepcopy(test[0]))
    result = grade_it(released.master, nb)
    assert [c.grade_id for c in result.cells].count("test_add") == 1
    assert result.score == 3.0


LEAK = """import inspect, sys
seen = []
def add(a, b):
    if a == 0:
        print("LEAK", seen, In if "In" in globals() else "")
        return 0
    for frame in inspect.stack():
        seen.append(repr(frame.frame.f_locals.get("secret")))
        try:
            seen.append(inspect.getsource(frame.frame))
        except Exception:
            pass
        seen.append(str(frame.code_context))
    seen.append(str(sys._getframe(1).f_globals.get("secret")))
    return a + b"""


def test_caller_frames_of_hidden_tests_never_reach_the_feedback(grade_it):
    from graders.release import release_notebook

    from .conftest import code, source_notebook

    later = code("assert add(0, 0) == 0", grade_id="test_later", grade=True, points=1)
    rel = release_notebook(source_notebook(extra=[later]))
    result = grade_it(rel.master, solve(rel.student, {"answer": LEAK}))
    cells = by_id(result)
    assert cells["test_hidden"].passed  # scored with the hidden tests restored
    assert result.score == 4.0
    # The attack works in the scoring run (so the test is meaningful) ...
    assert any(SECRET in str(c.get("outputs")) for c in result.executed.cells)
    # ... and nothing of it reaches the learner.
    assert "LEAK" in cells["test_later"].feedback_output
    assert all(SECRET not in c.feedback_output for c in result.cells)
    assert SECRET not in str(result.feedback)


def test_malformed_nbgrader_metadata_in_a_submission_is_ignored(released, grade_it):
    nb = solve(released.student, {"answer": RIGHT})
    nb.cells.append(v4.new_code_cell("x = 1", metadata={"nbgrader": "grade me"}))
    nb.cells.append(
        v4.new_code_cell("x = 2", metadata={"nbgrader": {"grade": True, "grade_id": 5}})
    )
    for cell in nb.cells:
        info = cell.metadata.get("nbgrader")
        if isinstance(info, dict) and info.get("grade_id") == "test_add":
            info["points"] = "lots"
            info["schema_version"] = 99
        if isinstance(info, dict) and info.get("grade_id") == "answer":
            cell.cell_type = "raw"
            del cell["outputs"], cell["execution_count"]
    result = grade_it(released.master, nb)
    assert result.status == "graded"
    assert result.score == 3.0 and result.max_score == 4.0
    assert {"unknown-grade-cell", "changed-cell-metadata"} <= set(result.flags)
