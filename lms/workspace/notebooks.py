"""Drafts as notebooks and back: the cells a learner edits, checked against the release.

A draft is a list of cells ``{"id", "type", "grade_id"?, "source"?}``:
- a *locked* cell (nbgrader's read-only and test cells) names its grade id and carries no
  source: it is always the released text, so it can be neither edited nor deleted;
- an *answer* cell (nbgrader's solution cells) names its grade id and carries the
  learner's source;
- the learner's *own* cells (and the release's plain cells) carry a source only.
"""

from __future__ import annotations

import copy
import functools
import re
import secrets
from dataclasses import dataclass
from typing import Any

CELL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CELLS = 500
TYPES = ("code", "markdown")


class InvalidDraft(Exception):
    """The cells sent are not a draft of this notebook; ``why`` is a short code."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Released:
    """The student version of an assignment, indexed by grade id."""

    notebook: Any  # nbformat.NotebookNode
    locked: dict[str, Any]
    answers: dict[str, Any]
    order: tuple[str, ...]  # grade ids in released order


def _grade_id(cell: Any) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) and grade_id else None


def _is_locked(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    # nbgrader: a grade cell that is not a solution is locked, whatever "locked" says.
    return bool(meta.get("locked")) or (bool(meta.get("grade")) and not meta.get("solution"))


@functools.lru_cache(maxsize=64)
def released(student_text: str) -> Released:
    """The student version parsed and indexed (kept for the few assignments in use)."""
    import nbformat  # here: importing it costs seconds

    nb = nbformat.reads(student_text, as_version=4)
    locked, answers, order = {}, {}, []
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id is None or cell.cell_type not in TYPES:
            continue
        order.append(grade_id)
        if _is_locked(cell):
            locked[grade_id] = cell
        else:
            answers[grade_id] = cell
    return Released(nb, locked, answers, tuple(order))


def new_cell_id() -> str:
    return secrets.token_hex(6)


def initial_cells(rel: Released) -> list[dict[str, Any]]:
    """The draft a learner starts from: the released notebook."""
    cells = []
    for cell in rel.notebook.cells:
        if cell.cell_type not in TYPES:
            continue
        grade_id = _grade_id(cell)
        cell_id = cell.get("id") if CELL_ID.match(str(cell.get("id", ""))) else new_cell_id()
        entry: dict[str, Any] = {"id": cell_id, "type": cell.cell_type}
        if grade_id in rel.locked:
            entry["grade_id"] = grade_id
        elif grade_id in rel.answers:
            entry.update(grade_id=grade_id, source=cell.source)
        else:
            entry["source"] = cell.source
        cells.append(entry)
    return _unique_ids(cells)


def _unique_ids(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for cell in cells:
        while cell["id"] in seen:
            cell["id"] = new_cell_id()
        seen.add(cell["id"])
    return cells


def validate(rel: Released, raw: Any, *, max_bytes: int) -> list[dict[str, Any]]:
    """The cells a page sent, checked and normalised; ``InvalidDraft`` if they are not a
    draft of this notebook (a locked cell edited or missing, an unknown grade id...)."""
    if not isinstance(raw, list) or not raw:
        raise InvalidDraft("not-a-list")
    if len(raw) > MAX_CELLS:
        raise InvalidDraft("too-many-cells")
    cells: list[dict[str, Any]] = []
    ids: set[str] = set()
    seen: set[str] = set()
    size = 0
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidDraft("not-a-cell")
        cell_id, kind = item.get("id"), item.get("type")
        if not isinstance(cell_id, str) or not CELL_ID.match(cell_id) or cell_id in ids:
            raise InvalidDraft("bad-id")
        if kind not in TYPES:
            raise InvalidDraft("bad-type")
        ids.add(cell_id)
        grade_id, source = item.get("grade_id"), item.get("source")
        if source is not None and not isinstance(source, str):
            raise InvalidDraft("bad-source")
        if grade_id is not None:
            if not isinstance(grade_id, str) or grade_id in seen:
                raise InvalidDraft("bad-grade-id")
            seen.add(grade_id)
            if grade_id in rel.locked:
                if source is not None and source != rel.locked[grade_id].source:
                    raise InvalidDraft("locked-edited")
                cells.append(
                    {"id": cell_id, "type": rel.locked[grade_id].cell_type, "grade_id": grade_id}
                )
                continue
            if grade_id not in rel.answers:
                raise InvalidDraft("bad-grade-id")
            kind = rel.answers[grade_id].cell_type
        source = source or ""
        size += len(source.encode("utf-8"))
        entry = {"id": cell_id, "type": kind, "source": source}
        if grade_id is not None:
            entry["grade_id"] = grade_id
        cells.append(entry)
    if size > max_bytes:
        raise InvalidDraft("too-large")
    if set(rel.locked) - seen:
        raise InvalidDraft("locked-deleted")
    return cells


def complete(rel: Released, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``cells`` with every locked cell of the current release (an instructor may have
    re-released the notebook since): missing ones go after the cell before them."""
    cells = [
        c
        for c in cells
        if c.get("grade_id") is None or c["grade_id"] in rel.locked or c["grade_id"] in rel.answers
    ]
    present = {c.get("grade_id") for c in cells}
    for index, grade_id in enumerate(rel.order):
        if grade_id in present or grade_id not in rel.locked:
            continue
        before = set(rel.order[:index])
        position = 0
        for i, cell in enumerate(cells):
            if cell.get("grade_id") in before:
                position = i + 1
        locked = rel.locked[grade_id]
        cells.insert(
            position, {"id": new_cell_id(), "type": locked.cell_type, "grade_id": grade_id}
        )
        present.add(grade_id)
    return _unique_ids(cells)


def with_sources(rel: Released, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The draft as the page shows it: locked cells with their released text and a
    ``role`` (locked, answer, own) for each cell."""
    shown = []
    for cell in complete(rel, copy.deepcopy(cells)):
        grade_id = cell.get("grade_id")
        if grade_id in rel.locked:
            cell["source"], cell["role"] = rel.locked[grade_id].source, "locked"
        else:
            cell["role"] = "answer" if grade_id in rel.answers else "own"
        shown.append(cell)
    return shown


def to_notebook(rel: Released, cells: list[dict[str, Any]]) -> Any:
    """The draft as a notebook (the student version's metadata, no outputs)."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    nb = copy.deepcopy(rel.notebook)
    built = []
    for cell in complete(rel, copy.deepcopy(cells)):
        grade_id = cell.get("grade_id")
        if grade_id in rel.locked or grade_id in rel.answers:
            new = copy.deepcopy(rel.locked.get(grade_id) or rel.answers[grade_id])
            if grade_id in rel.answers:
                new.source = cell.get("source", "")
            if new.cell_type == "code":
                new.outputs, new.execution_count = [], None
        elif cell["type"] == "code":
            new = new_code_cell(cell.get("source", ""))
        else:
            new = new_markdown_cell(cell.get("source", ""))
        new["id"] = cell["id"]
        built.append(new)
    nb.cells = built
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    return nb


def from_notebook(rel: Released, notebook_text: str) -> list[dict[str, Any]]:
    """An uploaded notebook (the Jupyter path) as a draft: answers and own cells kept,
    locked cells as released, outputs dropped."""
    import nbformat  # here: importing it costs seconds

    nb = nbformat.reads(notebook_text, as_version=4)
    cells: list[dict[str, Any]] = []
    seen: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type not in TYPES:
            continue
        raw_id = str(cell.get("id", ""))
        cell_id = raw_id if CELL_ID.match(raw_id) else new_cell_id()
        grade_id = _grade_id(cell)
        if grade_id in seen:
            grade_id = None
        if grade_id in rel.locked:
            cells.append(
                {"id": cell_id, "type": rel.locked[grade_id].cell_type, "grade_id": grade_id}
            )
        elif grade_id in rel.answers:
            cells.append(
                {
                    "id": cell_id,
                    "type": rel.answers[grade_id].cell_type,
                    "grade_id": grade_id,
                    "source": cell.source,
                }
            )
        else:
            cells.append({"id": cell_id, "type": cell.cell_type, "source": cell.source})
            continue
        seen.add(grade_id)  # type: ignore[arg-type]
    return complete(rel, _unique_ids(cells))
