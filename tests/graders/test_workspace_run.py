"""A workspace Run (graders.workspace): cells 1..i of the draft, prepared as for feedback, in
a guarded kernel; hidden tests never run; a Run and a Submit of the same draft agree."""

from __future__ import annotations

import copy
import json

import pytest
from nbformat import v4

from graders.release import release_notebook
from graders.workspace import UnknownCell, prepare, run_cells

from .conftest import SECRET, by_id, solve, source_notebook
from .test_guard import RIGHT, SKIP_TESTS, WRONG


@pytest.fixture(scope="module")
def hidden():
    return release_notebook(source_notebook(hidden=True))


def cell_id(nb, grade_id):
    return next(
        c.id for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def text_of(result, cid):
    found = next(c for c in result.cells if c.cell_id == cid)
    return json.dumps(found.outputs)


@pytest.fixture
def run_it(provider, settings):
    def run(master, draft, upto, **more):
        return run_cells(
            master, draft, upto=upto, settings=settings, kernel_provider=provider, **more
        )

    return run


def test_run_executes_the_prefix_and_never_a_hidden_test(hidden, run_it):
    draft = solve(hidden.student, {"answer": RIGHT})
    upto = cell_id(draft, "test_hidden")
    prepared = prepare(hidden.master, draft, upto=upto)
    assert SECRET not in json.dumps(prepared)  # the hidden test's text is not even sent
    result = run_it(hidden.master, draft, upto)
    assert result.status == "completed", result.reason
    assert "visible test ran" in text_of(result, cell_id(draft, "test_add"))
    everything = json.dumps([c.outputs for c in result.cells])
    assert SECRET not in everything
    # Only cells up to the one run: the manual answer after it was not executed.
    assert [c.cell_id for c in result.cells][-1] == upto


def test_running_a_cell_shows_the_visible_tests_assertion(hidden, run_it):
    draft = solve(hidden.student, {"answer": WRONG})
    result = run_it(hidden.master, draft, cell_id(draft, "test_add"))
    shown = text_of(result, cell_id(draft, "test_add"))
    assert "AssertionError" in shown


def test_a_run_of_an_edited_test_cell_runs_the_released_test(hidden, run_it):
    draft = solve(hidden.student, {"answer": WRONG, "test_add": "print('I passed')"})
    result = run_it(hidden.master, draft, cell_id(draft, "test_add"))
    shown = text_of(result, cell_id(draft, "test_add"))
    assert "I passed" not in shown and "AssertionError" in shown


@pytest.mark.parametrize("attack", sorted(SKIP_TESTS))
def test_a_trick_the_guard_undoes_at_submit_is_undone_at_run(hidden, run_it, grade_it, attack):
    """Run and Submit give the same result: the trick makes neither pass."""
    trick, _flag = SKIP_TESTS[attack]
    draft = solve(hidden.student, {"answer": WRONG + trick})
    result = run_it(hidden.master, draft, cell_id(draft, "test_add"))
    assert "AssertionError" in text_of(result, cell_id(draft, "test_add")), attack
    graded = by_id(grade_it(hidden.master, draft))
    assert graded["test_add"].score == 0


def test_a_patched_assert_helper_is_put_back_at_run_as_at_submit(run_it, grade_it):
    """A test cell calling a set-up helper: rebinding the helper in an answer changes nothing
    in either (the test cell is restored, and the guard puts the machinery back)."""
    source = source_notebook(hidden=False)
    source.cells.insert(
        1,
        v4.new_code_cell(
            "def check(value, expected):\n    assert value == expected, 'wrong sum'",
            metadata={
                "nbgrader": {
                    "grade_id": "helpers",
                    "locked": True,
                    "grade": False,
                    "solution": False,
                    "task": False,
                    "schema_version": 3,
                }
            },
        ),
    )
    test = next(
        c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_add"
    )
    test.source = "check(add(1, 2), 3)"
    released = release_notebook(source)
    cheat = WRONG + "\nimport builtins\nbuiltins.AssertionError = type('Fine', (Exception,), {})\n"
    draft = solve(released.student, {"answer": cheat})
    result = run_it(released.master, draft, cell_id(draft, "test_add"))
    assert "wrong sum" in text_of(result, cell_id(draft, "test_add"))
    graded = grade_it(released.master, draft)
    assert by_id(graded)["test_add"].score == 0 and "patched-builtins" in graded.flags


def test_a_newer_run_cancels_between_cells(hidden, run_it):
    draft = solve(hidden.student, {"answer": RIGHT})
    asked = []

    def keep_going():
        asked.append(1)
        return len(asked) < 2  # the first cell runs, then the flag is seen

    result = run_it(hidden.master, draft, cell_id(draft, "test_hidden"), keep_going=keep_going)
    assert result.status == "cancelled" and result.reason_code == "cancelled"
    assert len(asked) == 2


def test_an_endless_loop_ends_at_the_cell_timeout(hidden, run_it, settings):
    draft = solve(hidden.student, {"answer": "while True:\n    pass"})
    result = run_it(hidden.master, draft, cell_id(draft, "answer"))
    outputs = next(c for c in result.cells if c.cell_id == cell_id(draft, "answer")).outputs
    assert any(o.get("ename") == "CellTimeoutError" for o in outputs)


def test_an_unknown_cell_is_refused(hidden):
    draft = copy.deepcopy(hidden.student)
    with pytest.raises(UnknownCell):
        prepare(hidden.master, draft, upto="no-such-cell")
