"""Release: the master keeps hidden tests, the student version keeps none; bad metadata is named."""

from __future__ import annotations

import pytest
from nbformat import v4

from graders.errors import InvalidSource
from graders.release import release_notebook, validate_source

from .conftest import SECRET, code, meta, source_notebook


def test_release_stubs_solutions_and_hides_hidden_tests_from_students():
    released = release_notebook(source_notebook())
    master, student = released.master, released.student
    answer = [c for c in student.cells if "def add" in c.source][0]
    assert "return a + b" not in answer.source
    assert "raise NotImplementedError()" in answer.source
    assert any(SECRET in c.source for c in master.cells)
    assert not any(SECRET in c.source for c in student.cells)
    graded = [c for c in student.cells if "nbgrader" in c.metadata]
    assert all(c.metadata.nbgrader.get("checksum") for c in graded)
    assert [(c.grade_id, c.points, c.kind) for c in released.cells] == [
        ("test_add", 1.0, "auto"),
        ("test_hidden", 2.0, "auto"),
        ("explain", 1.0, "manual"),
    ]
    assert released.auto_points == 3.0
    assert released.total_points == 4.0


def test_release_prepends_the_header():
    header = v4.new_notebook(cells=[v4.new_markdown_cell("Read me first")])
    released = release_notebook(source_notebook(), header=header)
    assert released.student.cells[0].source == "Read me first"


def _messages(*cells):
    return [str(p) for p in validate_source(v4.new_notebook(cells=list(cells)))]


def test_invalid_metadata_is_explained_per_cell():
    no_points = v4.new_code_cell("assert True", metadata=meta("t1", grade=True))
    assert any("'t1'" in m and "needs points" in m for m in _messages(no_points))

    twice = _messages(
        code("assert 1", grade_id="same", grade=True, points=1),
        code("assert 2", grade_id="same", grade=True, points=1),
    )
    assert any("grade id 'same' is already used by cell 1" in m for m in twice)

    unclosed = _messages(
        code("def f():\n    ### BEGIN SOLUTION\n    return 1", grade_id="f", solution=True)
    )
    assert any("'### BEGIN SOLUTION' on line 2 is never closed" in m for m in unclosed)

    hidden = _messages(
        code("### BEGIN HIDDEN TESTS\nassert f() == 1", grade_id="t", grade=True, points=1)
    )
    assert any("'### BEGIN HIDDEN TESTS' on line 1 is never closed" in m for m in hidden)

    wrong = v4.new_code_cell(
        "x = 1",
        metadata={
            "nbgrader": {
                "grade": "yes",
                "solution": False,
                "locked": False,
                "grade_id": "w",
                "schema_version": 3,
            }
        },
    )
    assert any(
        "cell 1 ('w'): nbgrader metadata is invalid at 'grade'" in m for m in _messages(wrong)
    )

    outside = _messages(v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    assert any("belong in a solution cell" in m for m in outside)


def test_release_refuses_invalid_source_with_the_messages():
    nb = source_notebook()
    del nb.cells[2].metadata["nbgrader"]["points"]
    with pytest.raises(InvalidSource) as caught:
        release_notebook(nb)
    assert caught.value.messages == [
        "cell 3 ('test_add'): a grade cell needs points, and this one has none"
    ]
    # The platform translates problems by their code, with the cell in the details.
    (problem,) = caught.value.problems
    assert (problem.code, problem.cell, problem.grade_id) == ("grade-without-points", 3, "test_add")


def test_a_broken_header_is_named_as_the_header():
    header = v4.new_notebook(cells=[code("assert 1", grade_id="h", grade=True)])
    with pytest.raises(InvalidSource) as caught:
        release_notebook(source_notebook(), header=header)
    assert caught.value.messages == [
        "header cell 1 ('h'): a grade cell needs points, and this one has none"
    ]


def test_a_valid_source_has_no_messages():
    assert validate_source(source_notebook()) == []
