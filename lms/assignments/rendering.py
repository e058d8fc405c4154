"""Notebooks shown in pages: instructions as sanitised Markdown, executed cells as plain text.

Nothing a notebook carries is trusted: Markdown is rendered with raw HTML off and then
cleaned with an allow-list; code, text outputs and tracebacks are passed to templates as
plain strings (Jinja escapes them); of rich outputs only PNG and JPEG images are kept, as
base64 ``data:`` URIs. HTML and JavaScript outputs are never rendered.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

import nh3
from markdown_it import MarkdownIt

HEADING = re.compile(r"<(/?)h([1-6])>")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
IMAGE_TYPES = ("image/png", "image/jpeg")
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def safe_markdown(text: str) -> str:
    """Markdown as HTML that is safe to insert in a page."""
    return nh3.clean(
        _markdown.render(text),
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def instructions_html(student_notebook: str) -> str:
    """The Markdown cells of the student version, rendered safely: the assignment's text."""
    import nbformat  # here: importing it costs seconds

    try:
        node = nbformat.reads(student_notebook, as_version=4)
    except Exception:  # noqa: BLE001 - a broken stored notebook shows no instructions
        return ""
    parts = [cell.source for cell in node.cells if cell.cell_type == "markdown"]
    html = safe_markdown("\n\n".join(parts))
    # The page has its own <h1>: the notebook's headings go one level down.
    return HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 1, 6)}>", html)


@dataclass
class ShownOutput:
    kind: str  # "text", "error" or "image"
    text: str = ""
    image: str = ""  # a data: URI


@dataclass
class ShownCell:
    cell_type: str
    source: str
    grade_id: str | None
    points: float | None
    outputs: list[ShownOutput] = field(default_factory=list)


def _image(mime: str, data: Any) -> str | None:
    if not isinstance(data, str):
        return None
    compact = "".join(data.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return f"data:{mime};base64,{compact}"


def _output(output: Any) -> ShownOutput | None:
    kind = output.get("output_type")
    if kind == "stream":
        return ShownOutput("text", text=str(output.get("text", "")))
    if kind == "error":
        lines = output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"]
        return ShownOutput("error", text=ANSI.sub("", "\n".join(str(x) for x in lines)))
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        for mime in IMAGE_TYPES:
            if mime in data and (uri := _image(mime, data[mime])):
                return ShownOutput("image", image=uri)
        if "text/plain" in data:
            text = data["text/plain"]
            return ShownOutput("text", text="".join(text) if isinstance(text, list) else text)
    return None


def notebook_cells(notebook_text: str | None) -> list[ShownCell]:
    """An executed notebook as cells of plain text, for the instructor's review page."""
    import nbformat  # here: importing it costs seconds

    if not notebook_text:
        return []
    try:
        node = nbformat.reads(notebook_text, as_version=4)
    except Exception:  # noqa: BLE001 - show nothing rather than fail the page
        return []
    cells = []
    for cell in node.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        shown = ShownCell(
            cell_type=cell.cell_type,
            source=cell.source,
            grade_id=meta.get("grade_id") if meta.get("grade") else None,
            points=meta.get("points"),
        )
        for output in cell.get("outputs", []):
            converted = _output(output)
            if converted is not None:
                shown.outputs.append(converted)
        cells.append(shown)
    return cells


def hidden_test_ids(master_text: str) -> set[str]:
    """Grade ids of the master's cells that hold hidden tests (their output stays private)."""
    import nbformat  # here: importing it costs seconds

    try:
        node = nbformat.reads(master_text, as_version=4)
    except Exception:  # noqa: BLE001
        return set()
    return {
        cell.metadata.nbgrader.get("grade_id", "")
        for cell in node.cells
        if "nbgrader" in cell.get("metadata", {}) and "BEGIN HIDDEN TESTS" in cell.source
    }
