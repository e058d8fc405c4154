"""Errors of the grading engine; the CLI maps them to exit codes (2 input or setting, 3 sandbox)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class GraderError(Exception):
    """Base of every error the grading engine raises on purpose."""


class InvalidNotebook(GraderError):
    """An input is not a valid Jupyter notebook."""


class InvalidSetting(GraderError, ValueError):
    """An ``LMS_GRADER_*`` setting has a value the grader cannot use."""


# What each problem code means, in English; the platform shows them in the user's language.
PROBLEM_TEXT = {
    "metadata-not-object": "the nbgrader metadata must be an object",
    "schema-version": "nbgrader metadata schema version {version} is not supported "
    "(expected {expected}; run `nbgrader update`)",
    "metadata-invalid": "nbgrader metadata is invalid at '{where}': {error}",
    "no-grade-id": "an nbgrader cell needs a non-empty grade_id",
    "grade-without-points": "a grade cell needs points, and this one has none",
    "task-without-points": "a task cell needs points, and this one has none",
    "task-not-markdown": "a task cell must be a markdown cell",
    "markdown-grade-not-solution": "a graded markdown cell must be marked both 'grade' and "
    "'solution'",
    "duplicate-grade-id": "grade id '{grade_id}' is already used by cell {other_cell}",
    "region-nested": "'### {begin}' on line {line} is inside another one opened on line "
    "{outer_line}",
    "region-outside": "'### {begin}' regions belong in {needed}, but this cell is not marked "
    "as one",
    "region-unclosed": "'### {begin}' on line {line} is never closed by '### {end}'",
    "nbgrader": "{error}",
    "check-not-grade-cell": "checks (metadata.oqu.checks) belong to autograder test (grade) "
    "cells only",
    "check-invalid": "check '{check}' is invalid: {error}",
    "check-id-invalid": "check id '{check}' is not valid (lower-case letters, digits and '-', "
    "at most 48, starting with a letter or digit)",
    "check-duplicate-id": "check id '{check}' is already declared in cell {other_cell}",
    "check-messages": "check '{check}' needs its message in {languages}",
    "check-not-called": "check '{check}' is declared, but the cell never calls "
    'oqu_check("{check}", ...)',
    "check-undeclared": 'the cell calls oqu_check("{check}", ...) but does not declare that '
    "check in its metadata (oqu.checks)",
    "check-no-expected": "check '{check}' has no expected value (run `python -m graders "
    "record-checks SOURCE.ipynb`)",
    "check-expected-invalid": "check '{check}' has an expected value that cannot be read ({error})",
    "check-expected-too-large": "check '{check}' expects a value of more than {limit} elements",
}
# The kind of cell each region's flag marks, as region-outside names it.
FLAG_CELLS = {
    "solution": "a solution cell",
    "grade": "an autograder-test (grade) cell",
    "task": "a manually graded task cell",
}


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong with a source notebook: a code, where, and the details the text needs.

    ``str()`` gives the English sentence the command line prints.
    """

    code: str
    cell: int | None = None  # 1-based; None for the notebook as a whole
    grade_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    in_header: bool = False

    @property
    def place(self) -> str:
        if self.cell is None:
            return ""
        label = f"cell {self.cell}" + (f" ('{self.grade_id}')" if self.grade_id else "")
        return f"header {label}" if self.in_header else label

    def __str__(self) -> str:
        text = PROBLEM_TEXT[self.code].format(
            grade_id=self.grade_id,
            needed=FLAG_CELLS.get(self.details.get("flag", ""), ""),
            **self.details,
        )
        return f"{self.place}: {text}" if self.place else text


class InvalidSource(GraderError):
    """The source notebook's nbgrader metadata is invalid; ``problems`` says why, per cell."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.messages))

    @property
    def messages(self) -> list[str]:
        """The problems as English sentences."""
        return [str(p) for p in self.problems]


class NoSandbox(GraderError):
    """No sandbox can be had, and running learners' code without one is not allowed."""


class RecordFailed(GraderError):
    """``record-checks``: the source's solutions did not send its checks as declared;
    ``messages`` say why, one per problem."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))
