"""Hostile runs end in a graded result or a clear failure, never a stuck grade."""

from __future__ import annotations

import time

import pytest
from nbformat import v4

from graders.release import release_notebook

from .conftest import by_id, code, source_notebook

RIGHT = "def add(a, b):\n    return a + b"


@pytest.fixture(scope="module")
def plain():
    """No hidden tests: one run per grade, which keeps these tests quick."""
    return release_notebook(source_notebook(hidden=False))


def with_cell(released, source: str, *, answer: str = RIGHT):
    """The solved student version with a learner's own cell before the tests."""
    nb = released.student.copy()
    nb.cells = [c.copy() for c in released.student.cells]
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer":
            cell.source = answer
    nb.cells.insert(2, v4.new_code_cell(source))
    return nb


def test_a_kernel_that_dies_ends_graded_with_the_rest_at_zero(plain, grade_it):
    result = grade_it(plain.master, with_cell(plain, "import os\nos._exit(1)"))
    assert result.status == "graded"
    assert by_id(result)["test_add"].score == 0.0
    assert "kernel died" in result.reason
    assert "kernel-stopped" in result.flags


def test_a_kernel_killed_by_a_signal_ends_graded(plain, grade_it):
    result = grade_it(plain.master, with_cell(plain, "import os\nos.kill(os.getpid(), 9)"))
    assert result.status == "graded" and result.score == 0.0


def test_an_endless_loop_hits_the_cell_timeout_and_later_cells_still_run(plain, grade_it):
    started = time.monotonic()
    result = grade_it(plain.master, with_cell(plain, "while True:\n    pass"), cell_timeout=1.0)
    assert time.monotonic() - started < 10
    assert result.status == "graded" and result.reason == ""
    assert by_id(result)["test_add"].passed  # the kernel lived on
    loop = [c for c in result.executed.cells if c.source.startswith("while True")][0]
    assert loop.outputs[-1].ename == "CellTimeoutError"


def test_a_loop_that_ignores_interrupts_is_stopped(plain, grade_it):
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    started = time.monotonic()
    result = grade_it(plain.master, with_cell(plain, stubborn), cell_timeout=1.0)
    assert time.monotonic() - started < 10
    assert result.status == "graded"
    assert by_id(result)["test_add"].score == 0.0
    assert "ignored the interrupt" in result.reason


def test_the_whole_run_limit_fails_the_grade_with_a_reason(plain, grade_it):
    slow = "import time\ntime.sleep(1.5)"
    nb = with_cell(plain, slow)
    nb.cells.insert(3, v4.new_code_cell(slow))
    result = grade_it(plain.master, nb, cell_timeout=2.0, run_timeout=2.0)
    assert result.status == "failed"
    assert "did not finish within 2 seconds" in result.reason
    assert result.score == 0.0
    assert [(c.grade_id, c.score) for c in result.cells] == [("test_add", 0.0), ("explain", None)]


def test_fifty_megabytes_of_output_are_capped_and_the_result_arrives(plain, grade_it):
    flood = 'print("x" * 50_000_000)\nfor i in range(2000):\n    print("y" * 1000)'
    result = grade_it(plain.master, with_cell(plain, flood))
    assert result.status == "graded" and by_id(result)["test_add"].passed
    cell = [c for c in result.executed.cells if c.source.startswith("print(")][0]
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert len(text) < 64 * 1024 + 200
    assert "output truncated" in text


def test_stderr_beyond_the_cap_still_fails_a_test(plain, grade_it):
    from graders.release import release_notebook as release

    noisy = code(
        'import sys\nprint("o" * 100_000)\nsys.stderr.write("warning")\nassert add(1, 1) == 2',
        grade_id="noisy",
        grade=True,
        points=1,
    )
    rel = release(source_notebook(hidden=False, extra=[noisy]))
    result = grade_it(rel.master, with_cell(rel, "pass"))
    assert by_id(result)["noisy"].score == 0.0


def test_partial_credit_survives_an_exhausted_output_budget(grade_it):
    partial = code("assert add(1, 1) == 2\n0.25", grade_id="partial", grade=True, points=1)
    rel = release_notebook(source_notebook(hidden=False, extra=[partial]))
    result = grade_it(rel.master, with_cell(rel, 'print("z" * 300_000)'))
    assert by_id(result)["partial"].score == 0.25
    assert by_id(result)["test_add"].passed
