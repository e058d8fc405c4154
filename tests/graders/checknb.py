"""Purpose-made notebooks with check-style (``oqu_check``) and assert-style test cells."""

from __future__ import annotations

import copy
from typing import Any

from nbformat import v4
from nbformat.notebooknode import NotebookNode

from .conftest import code

MESSAGES = {
    "kk": "Медиана оқу деректерінен алынуы керек.",
    "ru": "Медиану нужно брать из обучающих данных.",
    "en": "Fill with the median of the training data.",
}


def check(expected: Any = None, **options: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"messages": dict(MESSAGES)} | options
    if expected is not None:
        data["expected"] = expected
    return data


def with_checks(cell: NotebookNode, **checks: dict[str, Any]) -> NotebookNode:
    cell.metadata["oqu"] = {"checks": copy.deepcopy(checks)}
    return cell


SETUP = "import math\nimport numpy as np\nimport pandas as pd\ntrain = [1.0, 2.0, 10.0, None]"
FILL = (
    "def fill(values):\n"
    "    ### BEGIN SOLUTION\n"
    "    known = sorted(v for v in values if v is not None)\n"
    "    middle = known[len(known) // 2]\n"
    "    return [middle if v is None else v for v in values]\n"
    "    ### END SOLUTION"
)
TOTAL = "def total(values):\n    ### BEGIN SOLUTION\n    return sum(values)\n    ### END SOLUTION"


def check_source(*, hidden_check: bool = False) -> NotebookNode:
    """Set-up, two answers, a check-style test (2 points), an assert-style test (1 point)."""
    test_fill = code(
        'oqu_check("filled", fill(list(train)))\noqu_check("length", len(fill(list(train))))',
        grade_id="test_fill",
        grade=True,
        points=2,
        locked=True,
    )
    checks: dict[str, Any] = {"filled": check(), "length": check()}
    if hidden_check:
        test_fill.source += (
            '\n### BEGIN HIDDEN TESTS\noqu_check("hidden-sum", sum(fill([5.0, None, 7.0])))'
            "\n### END HIDDEN TESTS"
        )
        checks["hidden-sum"] = check(hidden=True)
    cells = [
        v4.new_markdown_cell("# Filling gaps"),
        code(SETUP, grade_id="setup", locked=True),
        code(FILL, grade_id="fill", solution=True),
        with_checks(test_fill, **checks),
        code(TOTAL, grade_id="total", solution=True),
        code(
            "assert math.isclose(total([0.1, 0.2]), 0.3)\n"
            "assert np.allclose(total(np.array([1.0, 2.0])), 3.0)",
            grade_id="test_total",
            grade=True,
            points=1,
            locked=True,
        ),
    ]
    return v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
