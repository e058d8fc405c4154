"""Assignment notebooks of a package: reading, releasing through ``graders``, canonical text."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lms.courses.package.loaded import LoadedAssignment
from lms.courses.package.tomltext import KeyPath

if TYPE_CHECKING:
    from lms.courses.package.reader import _Reader


def canonical_notebook(source: str) -> str:
    """The notebook file as export writes it: nbformat's own JSON style, newline-terminated."""
    return json.dumps(json.loads(source), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def release(node: Any) -> tuple[str, str, Decimal, Decimal]:
    """Master text, student text, auto points and total points of a source notebook."""
    import nbformat  # here, not at the top: nbformat costs seconds to import

    from graders.release import release_notebook

    released = release_notebook(node)
    return (
        nbformat.writes(released.master),
        nbformat.writes(released.student),
        Decimal(str(released.auto_points)),
        Decimal(str(released.total_points)),
    )


def read_assignment(
    reader: _Reader, item: dict[str, Any], lines: dict[KeyPath, int], ipath: KeyPath
) -> LoadedAssignment | None:
    """The assignment of ``item``: its source notebook, released, and the files beside it."""
    import nbformat

    from lms.courses.package.reader import _fits

    name = item["notebook"]
    folder = f"notebooks/{name}/"
    rel = f"{folder}{name}.ipynb"
    pass_score = _fits(item["pass_score"], 3)
    if pass_score is None:
        reader.at("course.toml", lines, (*ipath, "pass_score"), "use at most 3 decimal places")
    if rel not in reader.files:
        reader.at(
            "course.toml", lines, (*ipath, "notebook"), f"assignment {item['id']!r} has no {rel}"
        )
        return None
    files = {}
    for other in sorted(reader.files):
        if other.startswith(folder) and other != rel:
            reader.used.add(other)
            files[other.removeprefix(folder)] = reader.files[other].read_bytes()
    source = reader.text(rel)
    if source is None:
        return None
    try:
        raw = json.loads(source)
    except json.JSONDecodeError as exc:
        reader.problem(rel, f"not a notebook: invalid JSON: {exc.msg}", line=exc.lineno)
        return None
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        reader.problem(rel, "not a Jupyter notebook in format 4 (nbformat 4)")
        return None
    try:
        node = nbformat.reads(source, as_version=4)
        nbformat.validate(node)
    except nbformat.ValidationError as exc:
        reader.problem(rel, f"not a valid notebook: {str(exc.message).splitlines()[0]}")
        return None
    try:
        master, student, auto, total = release(node)
    except Exception as exc:  # the grading engine explains what is wrong with the metadata
        for message in getattr(exc, "messages", None) or [str(exc)]:
            reader.problem(rel, f"nbgrader: {message}")
        return None
    if auto <= 0:
        reader.problem(
            rel,
            "no auto-graded points: an assignment needs at least one graded test cell with points",
        )
    return LoadedAssignment(
        notebook=name,
        source=source,
        master=master,
        student=student,
        auto_points=auto,
        total_points=total,
        pass_score=pass_score or Decimal(1),
        max_attempts=item.get("max_attempts"),
        files=files,
    )
