"""A Run's outputs made safe to show: nothing a kernel sends is trusted.

Each output becomes one of:
- ``{"kind": "stream"|"text"|"error", "html": ...}``: text escaped, ANSI colours turned into
  CSS classes (``ansi-fg-1``, ``ansi-bold``...), every other escape sequence dropped;
  tracebacks trimmed to the learner's own frames;
- ``{"kind": "image", "src": "data:..."}``: PNG and JPEG (checked base64), and SVG, which
  an ``<img>`` shows without running anything it holds;
- ``{"kind": "html", "html": ...}``: ``text/html`` (pandas tables) through an allow-list;
- ``{"kind": "notice", "code": ..., ...}``: what the platform says (a cell stopped at its
  time limit, output cut, an active output dropped, a visible check's outcome with its
  message in kk, ru and en), translated when it is shown.

Kept in the database as such, so a page never sees a raw output.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import nh3
from markupsafe import escape

CHECK_MIME = "application/vnd.oqu.check+json"  # the grader compares these; never shown
IMAGE_TYPES = ("image/png", "image/jpeg")
ACTIVE_TYPES = ("application/javascript", "text/javascript", "application/ecmascript")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
# Any escape sequence (CSI, OSC, two-byte), and one cut off by the output cap at the end.
OTHER_ESCAPES = re.compile(
    r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_]|\[[0-9;?]*\Z)"
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TRUNCATED = re.compile(
    r"^\n\[output truncated: more than (\d+|the run's) bytes of output in (this cell|this run)\]\n$"
)
LIBRARY_PATH = re.compile(r"(/site-packages/|/dist-packages/|/lib/python3[.\d]*/|^<frozen )")
FRAME = re.compile(r"^\s*File\s+(\S.*?)(:\d+)?(,\s+in\s+.*)?$")
MAX_SPANS = 5000  # an escape flood cannot turn one byte into one element each

HTML_TAGS = {
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
    "div", "span", "p", "br", "b", "i", "strong", "em", "code", "pre", "small", "sub",
    "sup", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "abbr",
}  # fmt: skip
HTML_ATTRIBUTES = {"th": {"colspan", "rowspan"}, "td": {"colspan", "rowspan"}, "abbr": {"title"}}

# Errors the grader writes itself (graders.execute), shown as notices in the learner's
# language.
GRADER_ERRORS = {
    "CellTimeoutError": "timeout",
    "DeadKernelError": "died",
    "CellNotRun": "not-run",
    "UnconfirmedCellError": "unconfirmed",
    "NoReply": "died",
}


def _terminal_lines(text: str) -> str:
    """What a terminal would show: a carriage return rewrites its line (progress bars)."""
    lines = text.split("\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines)


def _keep_colours(match: re.Match[str]) -> str:
    return match.group(0) if SGR.fullmatch(match.group(0)) else ""


def ansi_html(text: str) -> str:
    """``text`` escaped for HTML, its colours as spans of CSS classes."""
    text = OTHER_ESCAPES.sub(_keep_colours, _terminal_lines(text))
    parts: list[str] = []
    fg: int | None = None
    bg: int | None = None
    bold = False
    spans = 0
    position = 0
    for match in SGR.finditer(text):
        parts.append(_span(text[position : match.start()], fg, bg, bold, spans < MAX_SPANS))
        spans += 1
        position = match.end()
        codes = [int(c) for c in match.group(1).split(";") if c.isdigit()] or [0]
        while codes:
            code = codes.pop(0)
            if code in (38, 48):
                # 256 colours (5;n) or true colour (2;r;g;b): the first 16 map to the classes.
                extended = _extended(codes)
                if code == 38:
                    fg = extended
                else:
                    bg = extended
            elif code == 0:
                fg, bg, bold = None, None, False
            elif code == 1:
                bold = True
            elif code == 22:
                bold = False
            elif 30 <= code <= 37:
                fg = code - 30
            elif 90 <= code <= 97:
                fg = code - 90 + 8
            elif code == 39:
                fg = None
            elif 40 <= code <= 47:
                bg = code - 40
            elif 100 <= code <= 107:
                bg = code - 100 + 8
            elif code == 49:
                bg = None
    parts.append(_span(text[position:], fg, bg, bold, spans < MAX_SPANS))
    return "".join(parts)


def _extended(codes: list[int]) -> int | None:
    kind = codes.pop(0) if codes else None
    if kind == 5 and codes:
        n = codes.pop(0)
        return n if n < 16 else None
    if kind == 2:
        del codes[:3]
    return None


def _span(text: str, fg: int | None, bg: int | None, bold: bool, styled: bool) -> str:
    if not text:
        return ""
    safe = str(escape(CONTROL.sub("", text)))
    classes = []
    if fg is not None:
        classes.append(f"ansi-fg-{fg}")
    if bg is not None:
        classes.append(f"ansi-bg-{bg}")
    if bold:
        classes.append("ansi-bold")
    if not classes or not styled:
        return safe
    return f'<span class="{" ".join(classes)}">{safe}</span>'


def plain(text: str) -> str:
    """``text`` without any escape sequence (for a screen reader's announcement)."""
    return CONTROL.sub("", OTHER_ESCAPES.sub("", SGR.sub("", _terminal_lines(text))))


def trimmed_traceback(lines: list[str]) -> list[str]:
    """An IPython traceback without the frames inside installed libraries (the learner's
    own cells and files stay); a run of dropped frames becomes one line."""
    kept: list[str] = []
    dropped = 0
    for entry in lines:
        first = plain(entry).strip().split("\n", 1)[0]
        frame = FRAME.match(first)
        if frame and LIBRARY_PATH.search(frame.group(1)):
            dropped += 1
            continue
        if dropped:
            kept.append("…")
            dropped = 0
        kept.append(entry)
    if dropped and kept:
        kept.insert(len(kept) - 1, "…")
    return kept


def _image(mime: str, data: Any) -> str | None:
    if isinstance(data, list):
        data = "".join(str(x) for x in data)
    if not isinstance(data, str):
        return None
    if mime == "image/svg+xml":
        return "data:image/svg+xml;base64," + base64.b64encode(data.encode("utf-8")).decode()
    compact = "".join(data.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return f"data:{mime};base64,{compact}"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def safe_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=HTML_TAGS,
        attributes=HTML_ATTRIBUTES,
        clean_content_tags={"script", "style"},
        url_schemes=set(),
    )


def _rich(output: dict[str, Any]) -> dict[str, Any] | None:
    data = output.get("data") or {}
    if not isinstance(data, dict) or CHECK_MIME in data:
        return None
    for mime in (*IMAGE_TYPES, "image/svg+xml"):
        if mime in data and (src := _image(mime, data[mime])):
            return {"kind": "image", "src": src}
    if "text/html" in data:
        return {"kind": "html", "html": safe_html(_text(data["text/html"]))}
    if any(m in data for m in ACTIVE_TYPES) or "text/plain" not in data:
        # A script (its text/plain is only "<...Javascript object>"), a widget, or a type
        # nothing here can show: said so, never run.
        return {"kind": "notice", "code": "active-dropped"} if data else None
    return {"kind": "text", "html": ansi_html(_text(data["text/plain"]))}


def render(output: dict[str, Any], *, cell_timeout: float) -> dict[str, Any] | None:
    """One kernel output as something safe to show, or None (nothing to show)."""
    kind = output.get("output_type")
    if kind == "stream":
        text = _text(output.get("text", ""))
        truncated = TRUNCATED.match(text)
        if truncated:
            limit = truncated.group(1)
            size = int(limit) if limit.isdigit() else None
            return {"kind": "notice", "code": "truncated", "bytes": size}
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        return {"kind": "stream", "name": name, "html": ansi_html(text)}
    if kind == "error":
        ename = str(output.get("ename", ""))
        if ename in GRADER_ERRORS:
            return {"kind": "notice", "code": GRADER_ERRORS[ename], "seconds": cell_timeout}
        lines = [str(x) for x in output.get("traceback") or []] or [
            f"{ename}: {output.get('evalue', '')}"
        ]
        return {
            "kind": "error",
            "ename": ename[:200],
            "html": ansi_html("\n".join(trimmed_traceback(lines))),
            "summary": plain(f"{ename}: {output.get('evalue', '')}")[:500],
        }
    if kind in ("execute_result", "display_data"):
        return _rich(output)
    return None


def check_notice(outcome: dict[str, Any]) -> dict[str, Any]:
    """A visible check's outcome (``graders.workspace.CellRun.checks``) as a notice: its
    status, and its author's message in each language (chosen when shown)."""
    messages = outcome.get("messages") or {}
    return {
        "kind": "notice",
        "code": "check",
        "status": str(outcome.get("status", "")),
        "messages": {str(k): str(v)[:2000] for k, v in messages.items() if isinstance(v, str)},
    }


def render_cells(cells: list[Any], *, cell_timeout: float) -> dict[str, Any]:
    """A Run's cells (``graders.workspace.CellRun``) as ``{cell_id: {count, outputs}}``."""
    shown: dict[str, Any] = {}
    for cell in cells:
        raw = list(cell.outputs)
        if any(o.get("ename") == "CellTimeoutError" for o in raw):
            # The interrupt that stopped it is the platform's doing, not the learner's error.
            raw = [o for o in raw if o.get("ename") != "KeyboardInterrupt"]
        outputs = [render(o, cell_timeout=cell_timeout) for o in raw]
        outputs += [check_notice(c) for c in getattr(cell, "checks", None) or []]
        shown[cell.cell_id] = {
            "count": cell.execution_count,
            "outputs": [o for o in outputs if o is not None],
        }
    return shown
