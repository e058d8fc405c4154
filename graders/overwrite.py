"""Sanitising a submission against the master: what nbgrader's autograde does before running.

ClearOutput and DeduplicateIds are nbgrader's own; OverwriteKernelspec and OverwriteCells
need nbgrader's gradebook, so their effect is re-done here against the master, and made
stricter: every cell the master knows (by grade id) takes all its nbgrader metadata from
the master, locked and grade cells take the master's source, deleted ones (but for plain
answer cells) come back at their master position, and a cell with an id the master does
not know is a plain cell.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode
from nbformat.v4.nbbase import random_cell_id
from nbgrader import utils
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    DeduplicateIds,
)

CELL_FLAGS = ("grade", "solution", "locked", "task")
KEYS_THAT_MATTER = (*CELL_FLAGS, "points")


@dataclass
class Sanitised:
    """The notebook to run with hidden tests, the one to run for feedback, what was seen."""

    graded: NotebookNode
    feedback: NotebookNode
    flags: list[str] = field(default_factory=list)


def _grade_id(cell: NotebookNode) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    if not isinstance(meta, dict):
        return None
    grade_id = meta.get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else None


def _known(cell: NotebookNode) -> bool:
    return (
        utils.is_grade(cell)
        or utils.is_solution(cell)
        or utils.is_locked(cell)
        or utils.is_task(cell)
    )


def student_version(master: NotebookNode) -> NotebookNode:
    """The master without hidden tests and mark schemes (what the learner was given)."""
    nb = copy.deepcopy(master)
    resources: dict = {}
    for preprocessor in (ClearHiddenTests(), ClearMarkScheme()):
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def _answer(master_cell: NotebookNode, submitted: NotebookNode) -> NotebookNode:
    """A solution cell: the learner's source (and tags, which nbgrader keeps too: a
    ``skip-execution`` on their own answer skips only their code) in the master's cell
    type and nbgrader metadata."""
    cell = copy.deepcopy(master_cell)
    cell.source = submitted.get("source", "")
    tags = submitted.get("metadata", {}).get("tags")
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        cell.metadata["tags"] = list(tags)
    else:
        cell.metadata.pop("tags", None)
    if cell.cell_type == "markdown" and submitted.get("attachments"):
        cell.attachments = copy.deepcopy(submitted.attachments)
    return cell


MISSING_NOTICE = "This cell was missing from the submission; the grader put it back.\n\n"


def _put_back(master_cell: NotebookNode) -> NotebookNode:
    """The master's copy of a deleted cell. A manually graded answer carries a notice, as
    nbgrader's re-added cells do, so it differs from the unanswered stub and goes to a
    person instead of scoring 0."""
    cell = copy.deepcopy(master_cell)
    if utils.is_solution(cell) and utils.is_grade(cell):
        notice = MISSING_NOTICE if cell.cell_type == "markdown" else "# " + MISSING_NOTICE
        cell.source = notice + cell.source
    return cell


def _points(meta: dict) -> float | None:
    try:
        return float(meta["points"]) if "points" in meta else None
    except (TypeError, ValueError):
        return float("nan")  # never equal: counts as changed


def _metadata_changed(submitted: NotebookNode, given: NotebookNode) -> bool:
    """Whether the learner changed what nbgrader reads (flags, points, cell type)."""
    mine, theirs = submitted.metadata.get("nbgrader", {}), given.metadata.get("nbgrader", {})
    if any(bool(mine.get(k)) != bool(theirs.get(k)) for k in CELL_FLAGS):
        return True
    return _points(mine) != _points(theirs) or submitted.cell_type != given.cell_type


def drop_hostile_metadata(nb: NotebookNode) -> set[str]:
    """Step 1: remove nbgrader metadata without a usable grade id (nbgrader's preprocessors
    trust its shape; a submission's is hostile). Flags it when it claimed anything."""
    flags: set[str] = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is not None and _grade_id(cell) is None:
            del cell.metadata["nbgrader"]
            if not isinstance(meta, dict) or any(meta.get(k) for k in KEYS_THAT_MATTER):
                flags.add("unknown-grade-cell")
    return flags


def clear_and_deduplicate(nb: NotebookNode) -> tuple[NotebookNode, dict]:
    """Step 2: nbgrader's ClearOutput and DeduplicateIds, as its autograde runs them."""
    resources: dict = {}
    for preprocessor in (ClearOutput(), DeduplicateIds()):
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb, resources


def match_cells(
    nb: NotebookNode,
    masters: dict[str | None, tuple[int, NotebookNode]],
    given: dict[str | None, NotebookNode],
) -> tuple[list[NotebookNode], dict[str, int], set[str]]:
    """Step 3: each submitted cell against the master, in the submission's order. A cell
    the master knows takes the master's metadata (and, unless it is an answer, the master's
    source); any other is a plain cell. Returns the cells, the master index of each grade
    id placed, and the flags."""
    flags: set[str] = set()
    cells: list[NotebookNode] = []
    placed: dict[str, int] = {}  # grade id -> master index, for cells kept in order
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id is None or grade_id not in masters or grade_id in placed:
            if "nbgrader" in cell.get("metadata", {}):
                if grade_id is not None and grade_id not in masters:
                    flags.add("unknown-grade-cell")
                del cell.metadata["nbgrader"]
            cells.append(cell)
            continue
        index, master_cell = masters[grade_id]
        if _metadata_changed(cell, given[grade_id]):
            flags.add("changed-cell-metadata")
        if utils.is_solution(master_cell):
            new = _answer(master_cell, cell)
        else:
            if cell.get("source", "") != given[grade_id].source:
                flags.add("edited-locked-cell")
            new = copy.deepcopy(master_cell)
        if cell.get("id"):
            new["id"] = cell["id"]
        placed[grade_id] = index
        cells.append(new)
    return cells, placed, flags


def put_back_deleted(
    cells: list[NotebookNode],
    masters: dict[str | None, tuple[int, NotebookNode]],
    placed: dict[str, int],
) -> set[str]:
    """Step 4: deleted locked, grade and task cells come back (in place in ``cells``) where
    the master has them: after the kept cell that precedes them in the master, else before
    the first kept cell that follows them. A deleted answer cell (solution only) does not:
    the learner may have answered in a cell of their own, and nbgrader never puts those
    back either."""
    flags: set[str] = set()
    for grade_id, (index, master_cell) in masters.items():
        if grade_id in placed:
            continue
        if utils.is_solution(master_cell) and not utils.is_grade(master_cell):
            continue
        flags.add("deleted-cell")
        position = None
        for i, cell in enumerate(cells):
            other = _grade_id(cell)
            if other in placed and placed[other] < index:
                position = i + 1
        if position is None:
            following = [i for i, c in enumerate(cells) if _grade_id(c) in placed]
            position = following[0] if following else len(cells)
        cells.insert(position, _put_back(master_cell))
        placed[grade_id] = index  # type: ignore[index]
    return flags


def unique_ids(cells: list[NotebookNode]) -> None:
    """Step 5: every cell gets an id of its own (a missing or repeated one is replaced)."""
    seen: set[str] = set()
    for cell in cells:
        if not cell.get("id") or cell["id"] in seen:
            cell["id"] = random_cell_id()
        seen.add(cell["id"])


def finish_notebook(
    nb: NotebookNode, cells: list[NotebookNode], master: NotebookNode, resources: dict
) -> NotebookNode:
    """Step 6: the cells in a notebook of the current format with the master's kernel, then
    nbgrader's CheckCellMetadata."""
    nb.cells = cells
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    for key in ("kernelspec", "language_info"):
        if key in master.metadata:
            nb.metadata[key] = copy.deepcopy(master.metadata[key])
    nb, _ = CheckCellMetadata().preprocess(nb, resources)
    return nb


def feedback_version(nb: NotebookNode, given: dict[str | None, NotebookNode]) -> NotebookNode:
    """Step 7: the same notebook with the released text of every locked and test cell, so
    hidden tests are absent (what the feedback run and the workspace execute)."""
    feedback = copy.deepcopy(nb)
    for cell in feedback.cells:
        grade_id = _grade_id(cell)
        if grade_id in given and not utils.is_solution(cell):
            cell.source = given[grade_id].source
    return feedback


def sanitise(master: NotebookNode, submission: NotebookNode, student: NotebookNode) -> Sanitised:
    """The submission made safe to grade against ``master``; ``student`` is its release."""
    nb = copy.deepcopy(submission)
    flags = drop_hostile_metadata(nb)
    nb, resources = clear_and_deduplicate(nb)
    masters = {_grade_id(c): (i, c) for i, c in enumerate(master.cells) if _known(c)}
    given = {_grade_id(c): c for c in student.cells if _known(c)}
    cells, placed, found = match_cells(nb, masters, given)
    flags |= found | put_back_deleted(cells, masters, placed)
    unique_ids(cells)
    nb = finish_notebook(nb, cells, master, resources)
    return Sanitised(graded=nb, feedback=feedback_version(nb, given), flags=sorted(flags))
