"""Release: the master and the student version of an nbgrader source notebook.

The sequence is nbgrader's ``generate_assignment`` minus the gradebook (SaveCells): the
master (solutions stubbed, hidden tests present, checksums) is kept by the platform and
is what submissions are graded against; the student version is what learners download.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from dataclasses import dataclass, field

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

from graders.errors import InvalidSource

# nbgrader's own delimiters (its defaults, which course notebooks use).
REGIONS = (
    ("BEGIN SOLUTION", "END SOLUTION", "solution", "a solution cell"),
    ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "grade", "an autograder-test (grade) cell"),
    ("BEGIN MARK SCHEME", "END MARK SCHEME", "task", "a manually graded task cell"),
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


def _label(index: int, meta: object) -> str:
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return f"cell {index + 1}" + (f" ('{grade_id}')" if grade_id else "")


def _upgrade(nb: NotebookNode) -> None:
    """Bring older nbgrader metadata to schema 3, as ``nbgrader update`` does."""
    validator = MetadataValidator()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict) and meta.get("schema_version", 0) in (0, 1, 2):
            with contextlib.suppress(Exception):  # validation below reports the cell
                validator.upgrade_cell_metadata(cell)


def _region_messages(index: int, cell: NotebookNode, meta: dict) -> list[str]:
    messages = []
    for begin, end, flag, needed in REGIONS:
        open_line = None
        for number, line in enumerate(cell.source.split("\n"), start=1):
            if begin in line:
                if open_line is not None:
                    messages.append(
                        f"{_label(index, meta)}: '### {begin}' on line {number} is inside "
                        f"another one opened on line {open_line}"
                    )
                open_line = number
            elif end in line:
                open_line = None
            else:
                continue
            if not meta.get(flag, False):
                messages.append(
                    f"{_label(index, meta)}: '### {begin}' regions belong in {needed}, "
                    "but this cell is not marked as one"
                )
                break
        if open_line is not None:
            messages.append(
                f"{_label(index, meta)}: '### {begin}' on line {open_line} is never closed "
                f"by '### {end}'"
            )
    return messages


def validate_source(nb: NotebookNode) -> list[str]:
    """Human-readable problems with a source notebook's nbgrader metadata; empty when valid."""
    schema = MetadataValidator().schema
    messages: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            messages.extend(_region_messages(index, cell, {}))
            continue
        label = _label(index, meta)
        if not isinstance(meta, dict):
            messages.append(f"{label}: the nbgrader metadata must be an object")
            continue
        version = meta.get("schema_version")
        if version != MetadataValidator.schema_version:
            messages.append(
                f"{label}: nbgrader metadata schema version {version!r} is not supported "
                f"(expected {MetadataValidator.schema_version}; run `nbgrader update`)"
            )
            continue
        try:
            jsonschema.validate(dict(meta), schema)
        except jsonschema.ValidationError as error:
            where = "/".join(str(p) for p in error.absolute_path) or "metadata"
            messages.append(f"{label}: nbgrader metadata is invalid at '{where}': {error.message}")
            continue
        grade, solution = meta.get("grade", False), meta.get("solution", False)
        locked, task = meta.get("locked", False), meta.get("task", False)
        if (grade or solution or locked or task) and not meta.get("grade_id"):
            messages.append(f"{label}: an nbgrader cell needs a non-empty grade_id")
        if grade and "points" not in meta:
            messages.append(f"{label}: a grade cell needs points, and this one has none")
        if task and "points" not in meta:
            messages.append(f"{label}: a task cell needs points, and this one has none")
        if task and cell.cell_type != "markdown":
            messages.append(f"{label}: a task cell must be a markdown cell")
        if not task and cell.cell_type == "markdown" and grade != solution:
            messages.append(
                f"{label}: a graded markdown cell must be marked both 'grade' and 'solution'"
            )
        grade_id = meta.get("grade_id")
        if grade_id and (grade or solution or locked or task):
            if grade_id in seen:
                messages.append(
                    f"{label}: grade id '{grade_id}' is already used by cell {seen[grade_id] + 1}"
                )
            else:
                seen[grade_id] = index
        messages.extend(_region_messages(index, cell, meta))
    return messages


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
        messages = [f"header {m}" for m in validate_source(header)]
        if messages:
            raise InvalidSource(messages)
        handle, header_path = tempfile.mkstemp(suffix=".ipynb", prefix="oqu-header-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            nbformat.write(header, out)
    try:
        _upgrade(nb)
        messages = validate_source(nb)
        if messages:
            raise InvalidSource(messages)
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
        except (RuntimeError, ValueError, ValidationError) as error:
            raise InvalidSource([str(error)]) from error
    finally:
        if header_path:
            os.unlink(header_path)
    return Release(master=master, student=student, cells=graded_cells(master))
