"""Release: the master and the student version of an nbgrader source notebook.

The sequence is nbgrader's ``generate_assignment`` minus the gradebook (SaveCells): the
master (solutions stubbed, hidden tests present, checksums, the checks' expected values in
``metadata.oqu.checks``) is kept by the platform and is what submissions are graded
against; the student version (no hidden tests, no check declarations) is what learners
download.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from dataclasses import dataclass, field, replace

import jsonschema
import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    LockCells,
)

from graders import checks
from graders.errors import InvalidSource, SourceProblem

# nbgrader's own delimiters (its defaults, which course notebooks use).
# Each region's delimiters and the nbgrader flag a cell holding it needs.
REGIONS = (
    ("BEGIN SOLUTION", "END SOLUTION", "solution"),
    ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "grade"),
    ("BEGIN MARK SCHEME", "END MARK SCHEME", "task"),
)


@dataclass(frozen=True)
class GradedCell:
    """A cell that carries points: an autograder test, a manually graded answer, a task."""

    grade_id: str
    points: float
    kind: str  # "auto" (test cell), "manual" (graded answer), "task"
    cell_type: str
    has_hidden_tests: bool = False


@dataclass
class Release:
    """What ``release_notebook`` produces from one source notebook."""

    master: NotebookNode
    student: NotebookNode
    cells: list[GradedCell] = field(default_factory=list)

    @property
    def auto_points(self) -> float:
        return sum(c.points for c in self.cells if c.kind == "auto")

    @property
    def total_points(self) -> float:
        return sum(c.points for c in self.cells)


def graded_cells(master: NotebookNode) -> list[GradedCell]:
    """The grade and task cells of a released master, in order, with their points."""
    result = []
    for cell in master.cells:
        meta = cell.metadata.get("nbgrader", {})
        if utils.is_grade(cell):
            kind = "manual" if utils.is_solution(cell) else "auto"
        elif utils.is_task(cell):
            kind = "task"
        else:
            continue
        result.append(
            GradedCell(
                grade_id=meta["grade_id"],
                points=float(meta.get("points", 0)),
                kind=kind,
                cell_type=cell.cell_type,
                has_hidden_tests="BEGIN HIDDEN TESTS" in cell.source,
            )
        )
    return result


def _grade_id_of(meta: object) -> str | None:
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return str(grade_id) if grade_id else None


def _upgrade(nb: NotebookNode) -> None:
    """Bring older nbgrader metadata to schema 3, as ``nbgrader update`` does."""
    validator = MetadataValidator()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict) and meta.get("schema_version", 0) in (0, 1, 2):
            with contextlib.suppress(Exception):  # validation below reports the cell
                validator.upgrade_cell_metadata(cell)


def _region_problems(index: int, cell: NotebookNode, meta: dict) -> list[SourceProblem]:
    def problem(code: str, **details: object) -> SourceProblem:
        return SourceProblem(code, cell=index + 1, grade_id=_grade_id_of(meta), details=details)

    problems = []
    for begin, end, flag in REGIONS:
        open_line = None
        for number, line in enumerate(cell.source.split("\n"), start=1):
            if begin in line:
                if open_line is not None:
                    problems.append(
                        problem("region-nested", begin=begin, line=number, outer_line=open_line)
                    )
                open_line = number
            elif end in line:
                open_line = None
            else:
                continue
            if not meta.get(flag, False):
                problems.append(problem("region-outside", begin=begin, flag=flag))
                break
        if open_line is not None:
            problems.append(problem("region-unclosed", begin=begin, end=end, line=open_line))
    return problems


def validate_source(nb: NotebookNode, *, need_expected: bool = True) -> list[SourceProblem]:
    """Problems with a source notebook's nbgrader metadata and its checks' declarations
    (``graders.checks.problems``; ``need_expected`` False before ``record-checks`` has
    written the expected values), per cell; empty when valid."""
    schema = MetadataValidator().schema
    problems: list[SourceProblem] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            problems.extend(_region_problems(index, cell, {}))
            continue

        def problem(code: str, **details: object) -> SourceProblem:
            return SourceProblem(
                code,
                cell=index + 1,  # noqa: B023
                grade_id=_grade_id_of(meta),  # noqa: B023
                details=details,
            )

        if not isinstance(meta, dict):
            problems.append(problem("metadata-not-object"))
            continue
        version = meta.get("schema_version")
        if version != MetadataValidator.schema_version:
            problems.append(
                problem(
                    "schema-version",
                    version=repr(version),
                    expected=MetadataValidator.schema_version,
                )
            )
            continue
        try:
            jsonschema.validate(dict(meta), schema)
        except jsonschema.ValidationError as error:
            where = "/".join(str(p) for p in error.absolute_path) or "metadata"
            problems.append(problem("metadata-invalid", where=where, error=error.message))
            continue
        grade, solution = meta.get("grade", False), meta.get("solution", False)
        locked, task = meta.get("locked", False), meta.get("task", False)
        if (grade or solution or locked or task) and not meta.get("grade_id"):
            problems.append(problem("no-grade-id"))
        if grade and "points" not in meta:
            problems.append(problem("grade-without-points"))
        if task and "points" not in meta:
            problems.append(problem("task-without-points"))
        if task and cell.cell_type != "markdown":
            problems.append(problem("task-not-markdown"))
        if not task and cell.cell_type == "markdown" and grade != solution:
            problems.append(problem("markdown-grade-not-solution"))
        grade_id = meta.get("grade_id")
        if grade_id and (grade or solution or locked or task):
            if grade_id in seen:
                problems.append(problem("duplicate-grade-id", other_cell=seen[grade_id] + 1))
            else:
                seen[grade_id] = index
        problems.extend(_region_problems(index, cell, meta))
    problems.extend(checks.problems(nb, need_expected=need_expected))
    return problems


def _run(preprocessors: list, nb: NotebookNode) -> NotebookNode:
    resources: dict = {}
    for preprocessor in preprocessors:
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def release_notebook(source: NotebookNode, *, header: NotebookNode | None = None) -> Release:
    """Release ``source`` (with ``header`` prepended): the master and the student version."""
    nb = copy.deepcopy(source)
    nb.setdefault("metadata", {})
    header_path = None
    if header is not None:
        header = copy.deepcopy(header)
        _upgrade(header)
        problems = [replace(p, in_header=True) for p in validate_source(header)]
        if problems:
            raise InvalidSource(problems)
        handle, header_path = tempfile.mkstemp(suffix=".ipynb", prefix="oqu-header-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            nbformat.write(header, out)
    try:
        _upgrade(nb)
        problems = validate_source(nb)
        if problems:
            raise InvalidSource(problems)
        try:
            master = _run(
                [
                    IncludeHeaderFooter(header=header_path or ""),
                    LockCells(),
                    ClearSolutions(),
                    ClearOutput(),
                    CheckCellMetadata(),
                    ComputeChecksums(),
                ],
                nb,
            )
            student = _run(
                [ClearHiddenTests(), ClearMarkScheme(), ComputeChecksums(), CheckCellMetadata()],
                copy.deepcopy(master),
            )
            # Expected values (and the checks' messages) stay in the master only.
            checks.strip(student)
        except (RuntimeError, ValueError, ValidationError) as error:
            raise InvalidSource(
                [SourceProblem("nbgrader", details={"error": str(error)})]
            ) from error
    finally:
        if header_path:
            os.unlink(header_path)
    return Release(master=master, student=student, cells=graded_cells(master))
