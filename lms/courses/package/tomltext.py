"""TOML text: where a key sits in a file (for error lines) and the canonical writer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import tomli_w

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
    r"""(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")
MAX_LINE = 100


def _split_key(text: str) -> list[str]:
    return [part.strip("\"'") for part in _KEY_PART.findall(text)]


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map each key path (array-of-tables entries by index) to the line that defines it."""
    lines: dict[KeyPath, int] = {}
    counts: dict[KeyPath, int] = {}
    table: KeyPath = ()
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _HEADER.match(line)
        if header and not _ASSIGN.match(line):
            keys = _split_key(header.group(2))
            table = _resolve(keys, counts)
            if header.group(1) == "[[":
                parent = table
                index = counts.get(parent, 0)
                counts[parent] = index + 1
                # Nested arrays of tables restart under each new entry.
                for known in [k for k in counts if k[: len(parent)] == parent and k != parent]:
                    del counts[known]
                table = (*parent, index)
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            path = (*table, *_split_key(assign.group(1)))
            lines.setdefault(path, number)
            rest = line[assign.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
    return lines


def _resolve(keys: list[str], counts: dict[KeyPath, int]) -> KeyPath:
    """Turn ``modules.items`` into ``("modules", 2, "items")`` using the current entries."""
    path: KeyPath = ()
    for position, key in enumerate(keys):
        path = (*path, key)
        if position < len(keys) - 1 and path in counts:
            path = (*path, counts[path] - 1)
    return path


def line_of(lines: dict[KeyPath, int], path: Sequence[str | int]) -> int | None:
    """The line of ``path`` or of its nearest enclosing key that the text names."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return None


def _scalar(value: Any) -> str:
    return tomli_w.dumps({"v": value})[len("v = ") : -1]


def _literal(key: str, value: Any) -> str:
    name = _scalar(key) if not re.fullmatch(r"[A-Za-z0-9_-]+", key) else key
    if isinstance(value, list):
        parts = [_scalar(v) for v in value]
        inline = f"{name} = [{', '.join(parts)}]"
        if len(inline) <= MAX_LINE:
            return inline + "\n"
        return f"{name} = [\n" + "".join(f"    {p},\n" for p in parts) + "]\n"
    return f"{name} = {_scalar(value)}\n"


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _chunks(table: Mapping[str, Any], name: str, array: bool) -> list[str]:
    out: list[str] = []
    if name:
        out.append(f"[[{name}]]\n" if array else f"[{name}]\n")
    for key, value in table.items():
        if not isinstance(value, Mapping) and not _is_table_array(value):
            out.append(_literal(key, value))
    for key, value in table.items():
        child = f"{name}.{key}" if name else key
        if isinstance(value, Mapping):
            out.append("\n")
            out.extend(_chunks(value, child, False))
        elif _is_table_array(value):
            for entry in value:
                out.append("\n")
                out.extend(_chunks(entry, child, True))
    return out


def canonical_toml(document: Mapping[str, Any]) -> str:
    """The one text a document is written as: keys in the given order, tables spelled out.

    Values before sub-tables, every table and array of tables with its own header, short
    arrays inline, scalars exactly as ``tomli_w`` writes them.
    """
    return "".join(_chunks(document, "", False))
