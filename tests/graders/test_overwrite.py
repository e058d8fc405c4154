"""Sanitising a submission, step by step (graders.overwrite), without a kernel: each named
step on its own, and ``sanitise`` as a whole against tampering."""

from __future__ import annotations

import copy

from nbformat import v4

from graders import overwrite
from graders.overwrite import sanitise

from .conftest import SECRET, code, solve


def ids(cells):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]


def maps(released):
    masters = {
        overwrite._grade_id(c): (i, c)
        for i, c in enumerate(released.master.cells)
        if overwrite._known(c)
    }
    given = {overwrite._grade_id(c): c for c in released.student.cells if overwrite._known(c)}
    return masters, given


# --- each step ------------------------------------------------------------------------------


def test_step_1_drops_metadata_without_a_grade_id_and_flags_a_claim():
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade": True, "points": 5}}),
            v4.new_code_cell("y = 2", metadata={"nbgrader": "not a dict"}),
            v4.new_code_cell("z = 3", metadata={"nbgrader": {"grade": False}}),
            code("w = 4", grade_id="answer", solution=True),
        ]
    )
    flags = overwrite.drop_hostile_metadata(nb)
    assert flags == {"unknown-grade-cell"}
    assert ["nbgrader" in c.metadata for c in nb.cells] == [False, False, False, True]
    quiet = v4.new_notebook(cells=[v4.new_code_cell("z", metadata={"nbgrader": {}})])
    assert overwrite.drop_hostile_metadata(quiet) == set()  # claims nothing: no flag


def test_step_2_clears_outputs_and_makes_grade_ids_unique(released):
    nb = solve(released.student, {})
    nb.cells[1].outputs = [v4.new_output("stream", text="old output")]
    nb.cells[1].execution_count = 7
    nb.cells.insert(2, copy.deepcopy(nb.cells[1]))  # Jupyter's copy keeps the metadata
    nb, _ = overwrite.clear_and_deduplicate(nb)
    assert all(c.get("outputs", []) == [] for c in nb.cells if c.cell_type == "code")
    assert nb.cells[1].execution_count is None
    assert ids(nb.cells).count("answer") == 1


def test_step_3_takes_the_masters_source_and_metadata_and_flags_edits(released):
    masters, given = maps(released)
    nb = solve(released.student, {"answer": "def add(a, b):\n    return 3", "test_add": "pass"})
    nb.cells[2].metadata.nbgrader["points"] = 100
    nb.cells.append(code("forged", grade_id="not-in-master", grade=True, points=9))
    cells, placed, flags = overwrite.match_cells(nb, masters, given)
    assert flags == {"edited-locked-cell", "changed-cell-metadata", "unknown-grade-cell"}
    by_id = {overwrite._grade_id(c): c for c in cells}
    assert by_id["answer"].source == "def add(a, b):\n    return 3"  # the learner's answer
    assert by_id["test_add"].source == masters["test_add"][1].source  # the master's test
    assert by_id["test_add"].metadata.nbgrader["points"] == 1
    assert "nbgrader" not in cells[-1].metadata  # the forged cell is a plain cell
    assert placed == {g: masters[g][0] for g in ("answer", "test_add", "test_hidden", "explain")}


def test_step_4_puts_back_deleted_locked_and_grade_cells_in_place(released):
    masters, given = maps(released)
    nb = solve(released.student, {})
    nb.cells = [c for c in nb.cells if overwrite._grade_id(c) not in ("test_add", "answer")]
    cells, placed, _ = overwrite.match_cells(nb, masters, given)
    flags = overwrite.put_back_deleted(cells, masters, placed)
    assert flags == {"deleted-cell"}
    # The test comes back at its place; the plain answer cell (solution only) does not.
    assert ids(cells)[1:] == ["test_add", "test_hidden", "explain"]
    assert SECRET in cells[2].source  # the master's, hidden tests included
    nothing_missing = solve(released.student, {})
    cells, placed, _ = overwrite.match_cells(nothing_missing, masters, given)
    assert overwrite.put_back_deleted(cells, masters, placed) == set()


def test_step_5_gives_every_cell_an_id_of_its_own():
    cells = [v4.new_code_cell("a"), v4.new_code_cell("b"), v4.new_code_cell("c")]
    cells[1]["id"] = cells[0]["id"]
    del cells[2]["id"]
    first = cells[0]["id"]
    overwrite.unique_ids(cells)
    assert cells[0]["id"] == first
    assert len({c["id"] for c in cells}) == 3


def test_step_6_uses_the_masters_kernel_and_the_current_format(released):
    nb = solve(released.student, {})
    nb.metadata["kernelspec"] = {"name": "evil", "display_name": "Evil"}
    nb.nbformat_minor = 4
    out = overwrite.finish_notebook(nb, list(nb.cells), released.master, {})
    assert out.metadata["kernelspec"]["name"] == released.master.metadata["kernelspec"]["name"]
    assert (out.nbformat, out.nbformat_minor) == (4, 5)


def test_step_7_the_feedback_version_has_no_hidden_tests(released):
    masters, given = maps(released)
    cells, _, _ = overwrite.match_cells(solve(released.student, {}), masters, given)
    nb = v4.new_notebook(cells=cells)
    assert any(SECRET in c.source for c in nb.cells)
    feedback = overwrite.feedback_version(nb, given)
    assert not any(SECRET in c.source for c in feedback.cells)
    assert any(SECRET in c.source for c in nb.cells)  # the graded one keeps them


# --- the whole, against tampering -----------------------------------------------------------


def test_sanitise_undoes_edits_deletions_and_forgeries_together(released):
    nb = solve(released.student, {"answer": "def add(a, b):\n    return 0", "test_add": "pass"})
    nb.cells = [c for c in nb.cells if overwrite._grade_id(c) != "test_hidden"]
    nb.cells.append(code("assert True", grade_id="bonus", grade=True, points=50))
    nb.cells[1].metadata.nbgrader["locked"] = True
    result = sanitise(released.master, nb, released.student)
    assert result.flags == [
        "changed-cell-metadata",
        "deleted-cell",
        "edited-locked-cell",
        "unknown-grade-cell",
    ]
    graded = {overwrite._grade_id(c): c for c in result.graded.cells}
    assert "bonus" not in graded
    assert SECRET in graded["test_hidden"].source
    assert graded["answer"].metadata.nbgrader["locked"] is False
    assert graded["test_add"].source.startswith("assert add(1, 2) == 3")
    assert not any(SECRET in c.source for c in result.feedback.cells)


def test_sanitise_of_an_untouched_submission_changes_nothing_and_flags_nothing(released):
    nb = solve(released.student, {"answer": "def add(a, b):\n    return a + b"})
    result = sanitise(released.master, nb, released.student)
    assert result.flags == []
    assert ids(result.graded.cells) == ids(released.master.cells)
    assert [c.source for c in result.feedback.cells][2:] == [
        c.source for c in released.student.cells
    ][2:]
