"""Small nbgrader notebooks written in the tests, and a local (unsandboxed) kernel provider."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from nbformat import v4
from nbformat.notebooknode import NotebookNode

from graders.autograde import GradeResult, grade
from graders.kernels import LocalKernelProvider
from graders.release import Release, release_notebook
from graders.settings import GraderSettings

ANSWER = "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"
SECRET = "hidden-marker-42"


def meta(
    grade_id: str,
    *,
    grade: bool = False,
    solution: bool = False,
    locked: bool = False,
    points: float | None = None,
    task: bool = False,
) -> dict:
    data = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "task": task,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if points is not None:
        data["points"] = points
    return {"nbgrader": data}


def code(source: str, **kw: object) -> NotebookNode:
    return v4.new_code_cell(source, metadata=meta(**kw) if kw else {})  # type: ignore[arg-type]


def source_notebook(
    *, hidden: bool = True, extra: list[NotebookNode] | None = None
) -> NotebookNode:
    """Intro, an answer, a visible test, (a test with hidden tests), a manual answer."""
    cells = [
        v4.new_markdown_cell("# Adding numbers"),
        code(ANSWER, grade_id="answer", solution=True),
        code(
            'assert add(1, 2) == 3\nprint("visible test ran")',
            grade_id="test_add",
            grade=True,
            points=1,
        ),
    ]
    if hidden:
        cells.append(
            code(
                f'assert add(2, 2) == 4\n### BEGIN HIDDEN TESTS\nsecret = "{SECRET}"\n'
                f"assert add(10, 5) == 15, secret\n### END HIDDEN TESTS",
                grade_id="test_hidden",
                grade=True,
                points=2,
            )
        )
    cells += extra or []
    cells.append(
        v4.new_markdown_cell(
            "Explain your answer.", metadata=meta("explain", grade=True, solution=True, points=1)
        )
    )
    return v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def solve(student: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    """The student version with the cells named in ``answers`` replaced by the learner."""
    nb = copy.deepcopy(student)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


@pytest.fixture
def settings() -> GraderSettings:
    return GraderSettings(
        sandbox="off",
        cell_timeout=3.0,
        run_timeout=20.0,
        output_cell_bytes=64 * 1024,
        output_total_bytes=256 * 1024,
    )


@pytest.fixture(scope="session")
def provider() -> LocalKernelProvider:
    return LocalKernelProvider(GraderSettings(sandbox="off"))


@pytest.fixture(scope="session")
def released() -> Release:
    return release_notebook(source_notebook())


@pytest.fixture
def grade_it(provider: LocalKernelProvider, settings: GraderSettings) -> Callable[..., GradeResult]:
    def run(master: NotebookNode, submission: NotebookNode, **changes: object) -> GradeResult:
        return grade(
            master, submission, settings=settings.with_(**changes), kernel_provider=provider
        )

    return run


def by_id(result: GradeResult) -> dict:
    return {c.grade_id: c for c in result.cells}
