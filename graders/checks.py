"""Checks decided outside the learner's kernel: declarations, validation and comparison.

A grade cell of the master declares its checks in ``metadata.oqu.checks`` (see
``graders/README.md``): per check id, the expected value (tagged JSON, as
``graders.checks_local.to_tagged`` makes it, written by ``record-checks``), tolerances and
its message in kk, ru and en. The kernel only sends values (``oqu_check``); this module,
in the grader's process, reads them from the cell's outputs and decides:

- a declared check the cell did not send, or sent more than once, fails;
- a value the kernel could not read (a type not supported, too large, a cycle) fails;
- otherwise the values are compared by the rules of ``same``.

A grade cell with a failed check scores 0; check outputs of other cells are ignored.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode

from graders.checks_local import CHECK_MIME, MAX_CHARS, MAX_ELEMENTS
from graders.errors import SourceProblem

__all__ = [
    "CHECK_MIME",
    "CheckOutcome",
    "CheckSpec",
    "declared",
    "judge",
    "payloads",
    "problems",
    "same",
    "strip",
]

CHECK_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")
LANGUAGES = ("kk", "ru", "en")
# oqu_check("id", ...): a first argument that is a string literal and nothing more.
CALL = re.compile(r"""\boqu_check\s*\(\s*(?:check_id\s*=\s*)?(["'])([^"'\\\n]*)\1\s*,""")
OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "expected": (dict,),
    "rtol": (int, float),
    "atol": (int, float),
    "ignore_index": (bool,),
    "check_dtype": (bool,),
    "order": (bool,),
    "hidden": (bool,),
    "sequence": (str,),
    "messages": (dict,),
}
SEQUENCES = ("exact", "any")
DEFAULT_RTOL, DEFAULT_ATOL = 1e-7, 0.0
# What a grade cell's outputs may hold of check payloads (graders.kernel_io keeps them
# apart from the output caps): more fails every check of the cell.
MAX_PAYLOADS_PER_CELL = 64
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class CheckSpec:
    """One declared check, from a master's cell metadata."""

    check_id: str
    expected: Any = None
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    ignore_index: bool = False
    check_dtype: bool = False
    order: bool = True
    sequence: str = "exact"
    hidden: bool = False
    messages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, check_id: str, data: dict[str, Any]) -> CheckSpec:
        return cls(
            check_id=check_id,
            expected=data.get("expected"),
            rtol=float(data.get("rtol", DEFAULT_RTOL)),
            atol=float(data.get("atol", DEFAULT_ATOL)),
            ignore_index=bool(data.get("ignore_index", False)),
            check_dtype=bool(data.get("check_dtype", False)),
            order=bool(data.get("order", True)),
            sequence=str(data.get("sequence", "exact")),
            hidden=bool(data.get("hidden", False)),
            messages={k: str(v) for k, v in (data.get("messages") or {}).items()},
        )


@dataclass
class CheckOutcome:
    """How one declared check went. ``status``: passed, failed (a wrong value), missing
    (not sent), repeated (sent more than once, or the cell sent too many payloads),
    unreadable (a value of a type, size or shape the check cannot read)."""

    check_id: str
    status: str
    hidden: bool = False
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _oqu(cell: NotebookNode) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("oqu")
    return meta if isinstance(meta, dict) else {}


def _raw_checks(cell: NotebookNode) -> Any:
    return _oqu(cell).get("checks")


def _is_test_cell(cell: NotebookNode) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader")
    return (
        cell.get("cell_type") == "code"
        and isinstance(meta, dict)
        and bool(meta.get("grade"))
        and not meta.get("solution")
        and bool(meta.get("grade_id"))
    )


def declared(nb: NotebookNode) -> dict[str, dict[str, CheckSpec]]:
    """The checks of a (valid) master, by grade id of their cell, then by check id."""
    found: dict[str, dict[str, CheckSpec]] = {}
    for cell in nb.cells:
        checks = _raw_checks(cell)
        if not isinstance(checks, dict) or not checks or not _is_test_cell(cell):
            continue
        grade_id = str(cell.metadata.nbgrader["grade_id"])
        found[grade_id] = {
            str(k): CheckSpec.from_metadata(str(k), dict(v))
            for k, v in checks.items()
            if isinstance(v, dict)
        }
    return found


def strip(nb: NotebookNode) -> NotebookNode:
    """``nb`` (changed in place) without any check declaration: what a learner may see."""
    for cell in nb.cells:
        oqu = cell.get("metadata", {}).get("oqu")
        if isinstance(oqu, dict) and "checks" in oqu:
            del oqu["checks"]
            if not oqu:
                del cell.metadata["oqu"]
    return nb


# -- tagged values ------------------------------------------------------------------------

SCALARS = ("none", "bool", "int", "float", "str")
KINDS = ("b", "i", "f", "s")


class _Malformed(ValueError):
    pass


def _column_size(column: Any) -> int:
    if not isinstance(column, dict) or column.get("kind") not in KINDS:
        raise _Malformed("a column needs a kind")
    values = column.get("v")
    if not isinstance(values, list):
        raise _Malformed("a column needs values")
    return len(values)


def size(tagged: Any, depth: int = 0) -> int:
    """How many elements a tagged value holds; ``ValueError`` if it is not one."""
    if depth > 100 or not isinstance(tagged, dict) or not isinstance(tagged.get("t"), str):
        raise _Malformed("not a tagged value")
    t = tagged["t"]
    if t in SCALARS:
        return 1
    if t in ("list", "tuple"):
        items = tagged.get("v")
        if not isinstance(items, list):
            raise _Malformed("a list needs items")
        return 1 + sum(size(v, depth + 1) for v in items)
    if t == "dict":
        items = tagged.get("v")
        if not isinstance(items, dict):
            raise _Malformed("a dict needs items")
        return 1 + sum(size(v, depth + 1) for v in items.values())
    if t == "array":
        shape = tagged.get("shape")
        n = _column_size(tagged)
        if not isinstance(shape, list) or math.prod(int(x) for x in shape) != n:
            raise _Malformed("an array's shape does not match its values")
        return n
    if t in ("index",):
        return _column_size(tagged)
    if t == "series":
        return _column_size(tagged) + size(tagged.get("index"), depth + 1)
    if t == "frame":
        data = tagged.get("data")
        if not isinstance(data, list):
            raise _Malformed("a frame needs columns")
        return (
            sum(_column_size(c) for c in data)
            + size(tagged.get("index"), depth + 1)
            + size(tagged.get("columns"), depth + 1)
        )
    if t == "unreadable":
        raise _Malformed("the value could not be read: " + str(tagged.get("why")))
    raise _Malformed(f"unknown tag {t!r}")


def _num(value: Any) -> float:
    if isinstance(value, str):
        return float(value)  # "nan", "inf", "-inf"
    return float(value)


@dataclass(frozen=True)
class _Rules:
    rtol: float
    atol: float
    check_dtype: bool
    order: bool
    sequence: str
    ignore_index: bool


def _close(expected: Any, actual: Any, rules: _Rules) -> bool:
    try:
        e, a = _num(expected), _num(actual)
    except (TypeError, ValueError):
        return False
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    if math.isinf(e) or math.isinf(a):
        return e == a
    return abs(a - e) <= rules.atol + rules.rtol * abs(e)


def _scalar_same(e: dict, a: dict, rules: _Rules) -> bool:
    te, ta = e["t"], a["t"]
    numeric = ("int", "float")
    if te in numeric and ta in numeric:
        if te != ta and rules.check_dtype:
            return False
        if te == ta == "int":
            return bool(e.get("v") == a.get("v"))
        return _close(e.get("v"), a.get("v"), rules)
    if te != ta:
        return False
    if te == "none":
        return True
    if te == "bool":
        return e.get("v") is a.get("v")
    return bool(e.get("v") == a.get("v") and type(e.get("v")) is type(a.get("v")))


def _element_same(kind: str, e: Any, a: Any, rules: _Rules) -> bool:
    if kind == "f" or (kind == "i" and (isinstance(e, float | str) or isinstance(a, float | str))):
        return _close(e, a, rules)
    if kind == "i":
        return type(e) is int and type(a) is int and e == a
    if kind == "b":
        return e is a
    return bool(e == a) and type(e) is type(a)


def _kind_pair(e: dict, a: dict, rules: _Rules) -> str | None:
    """The kind both columns are compared as, or None when they cannot be equal."""
    ke, ka = e.get("kind"), a.get("kind")
    if rules.check_dtype and e.get("dtype") != a.get("dtype"):
        return None
    if ke == ka:
        return str(ke)
    if {ke, ka} == {"i", "f"}:
        return "f"
    return None


def _sort_key(value: Any) -> tuple:
    """A key that puts equal (and nearly equal) scalars of a column or row side by side."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float) or value in ("nan", "inf", "-inf"):
        number = _num(value)
        return (3,) if math.isnan(number) else (2, number)
    if isinstance(value, str):
        return (4, value)
    if isinstance(value, dict):
        return (5, json.dumps(_canonical(value), sort_keys=True))
    return (6, repr(value))


def _canonical(tagged: Any) -> Any:
    """A tagged value with ints as floats and lists as tuples-or-lists, for sorting only."""
    if isinstance(tagged, dict):
        if tagged.get("t") in ("int", "float"):
            return {"t": "num", "v": _sort_key(tagged.get("v"))}
        return {k: _canonical(v) for k, v in tagged.items()}
    if isinstance(tagged, list):
        return [_canonical(v) for v in tagged]
    return tagged


def _columns_same(kind: str, e: list, a: list, rules: _Rules) -> bool:
    if len(e) != len(a):
        return False
    if not rules.order:
        e, a = sorted(e, key=_sort_key), sorted(a, key=_sort_key)
    return all(_element_same(kind, x, y, rules) for x, y in zip(e, a, strict=True))


def _column_same(e: dict, a: dict, rules: _Rules) -> bool:
    kind = _kind_pair(e, a, rules)
    return kind is not None and _columns_same(kind, e.get("v", []), a.get("v", []), rules)


def _labels_same(e: Any, a: Any, rules: _Rules) -> bool:
    """Index labels: compared in order, whatever ``order`` says of the values."""
    if not isinstance(e, dict) or not isinstance(a, dict):
        return False
    ordered = _Rules(rules.rtol, rules.atol, False, True, rules.sequence, rules.ignore_index)
    return _column_same(e, a, ordered)


def _rows(frame: dict, with_index: bool) -> list[tuple]:
    columns = [c.get("v", []) for c in frame.get("data", [])]
    if with_index:
        columns = [frame["index"].get("v", []), *columns]
    return list(zip(*columns, strict=True))


def _frame_same(e: dict, a: dict, rules: _Rules) -> bool:
    if not _labels_same(e.get("columns"), a.get("columns"), rules):
        return False
    ed, ad = e.get("data", []), a.get("data", [])
    if len(ed) != len(ad):
        return False
    kinds = [_kind_pair(x, y, rules) for x, y in zip(ed, ad, strict=True)]
    if any(k is None for k in kinds):
        return False
    with_index = not rules.ignore_index
    if rules.order or not ed:
        if with_index and not _labels_same(e.get("index"), a.get("index"), rules):
            return False
        return all(
            _columns_same(str(k), x.get("v", []), y.get("v", []), rules)
            for k, x, y in zip(kinds, ed, ad, strict=True)
        )
    # Rows as a multiset: each row (with its index label) sorted as a whole.
    try:
        er, ar = _rows(e, with_index), _rows(a, with_index)
    except ValueError:
        return False
    if len(er) != len(ar):
        return False
    key = lambda row: tuple(_sort_key(v) for v in row)  # noqa: E731
    er, ar = sorted(er, key=key), sorted(ar, key=key)
    index_kind = _kind_pair(e["index"], a["index"], rules) if with_index else None
    if with_index and index_kind is None:
        return False
    row_kinds = ([str(index_kind)] if with_index else []) + [str(k) for k in kinds]
    return all(
        _element_same(k, x, y, rules)
        for row_e, row_a in zip(er, ar, strict=True)
        for k, x, y in zip(row_kinds, row_e, row_a, strict=True)
    )


def _same(e: Any, a: Any, rules: _Rules) -> bool:
    if not isinstance(e, dict) or not isinstance(a, dict):
        return False
    te, ta = e.get("t"), a.get("t")
    if te in SCALARS and ta in SCALARS:
        return _scalar_same(e, a, rules)
    if te in ("list", "tuple") and ta in ("list", "tuple"):
        if te != ta and rules.sequence != "any":
            return False
        ev, av = e.get("v", []), a.get("v", [])
        if len(ev) != len(av):
            return False
        if not rules.order:
            key = lambda v: _sort_key(v)  # noqa: E731
            ev, av = sorted(ev, key=key), sorted(av, key=key)
        return all(_same(x, y, rules) for x, y in zip(ev, av, strict=True))
    if te != ta:
        return False
    if te == "dict":
        ev, av = e.get("v", {}), a.get("v", {})
        return ev.keys() == av.keys() and all(_same(ev[k], av[k], rules) for k in ev)
    if te == "array":
        return e.get("shape") == a.get("shape") and _column_same(e, a, rules)
    if te == "index":
        return _labels_same(e, a, rules)
    if te == "series":
        if not rules.ignore_index and not _labels_same(e.get("index"), a.get("index"), rules):
            return False
        return _column_same(e, a, rules)
    if te == "frame":
        return _frame_same(e, a, rules)
    return False


def same(expected: Any, actual: Any, spec: CheckSpec) -> bool:
    """Whether a sent value matches the expected one under the check's rules:

    - ``bool`` never equals a number; ``int`` and ``float`` are equal when close (unless
      ``check_dtype``, which also makes arrays' and columns' dtypes count);
    - floats are close when ``|actual - expected| <= atol + rtol * |expected|``; NaN equals
      NaN, an infinity only itself;
    - a tuple never equals a list unless ``sequence`` is "any";
    - ``order: false`` compares lists, arrays' values and frames' rows as multisets;
    - Series and DataFrames compare index labels unless ``ignore_index``; a frame's column
      labels always count; a Series' name does not;
    - strings compare exactly (pandas' string dtype is sent as ``str``, its NA as None).
    """
    rules = _Rules(
        spec.rtol, spec.atol, spec.check_dtype, spec.order, spec.sequence, spec.ignore_index
    )
    try:
        return _same(expected, actual, rules)
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError):
        return False


# -- what a cell sent ---------------------------------------------------------------------


def payloads(cell: NotebookNode) -> Iterator[dict[str, Any]]:
    """The check payloads among a cell's outputs, in the order they came."""
    for output in cell.get("outputs", []):
        if output.get("output_type") != "display_data":
            continue
        data = output.get("data") or {}
        payload = data.get(CHECK_MIME) if isinstance(data, dict) else None
        if isinstance(payload, dict):
            yield payload


def is_payload(output: Any) -> bool:
    """Whether an output is a check payload (never shown to anyone as output)."""
    data = output.get("data") if isinstance(output, dict) else None
    return isinstance(data, dict) and CHECK_MIME in data


def judge(
    specs: dict[str, CheckSpec], cell: NotebookNode, *, visible_only: bool = False
) -> list[CheckOutcome]:
    """Every declared check of one grade cell, decided from the payloads in its outputs."""
    sent = list(payloads(cell))
    overflow = any(p.get("overflow") for p in sent)
    counts = Counter(p.get("id") for p in sent if isinstance(p.get("id"), str))
    values = {p["id"]: p.get("value") for p in sent if isinstance(p.get("id"), str)}
    outcomes = []
    for check_id, spec in specs.items():
        if visible_only and spec.hidden:
            continue
        if overflow or counts[check_id] > 1:
            status = "repeated"
        elif counts[check_id] == 0:
            status = "missing"
        else:
            value = values[check_id]
            if not isinstance(value, dict) or value.get("t") == "unreadable":
                status = "unreadable"
            else:
                status = "passed" if same(spec.expected, value, spec) else "failed"
        outcomes.append(CheckOutcome(check_id, status, spec.hidden, dict(spec.messages)))
    return outcomes


# -- validation of a source's declarations ------------------------------------------------


def called_ids(source: str) -> set[str]:
    """Check ids named as a literal in ``oqu_check("...", ...)`` calls of a cell's source."""
    return {m.group(2) for m in CALL.finditer(source)}


def problems(nb: NotebookNode, *, need_expected: bool = True) -> list[SourceProblem]:
    """What is wrong with a source's check declarations (``metadata.oqu.checks``)."""
    found: list[SourceProblem] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        checks = _raw_checks(cell)
        meta = cell.get("metadata", {}).get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None

        def problem(code: str, **details: object) -> SourceProblem:
            return SourceProblem(
                code,
                cell=index + 1,  # noqa: B023
                grade_id=str(grade_id) if grade_id else None,  # noqa: B023
                details=details,
            )

        if checks is None:
            if cell.get("cell_type") == "code":
                for check_id in sorted(called_ids(cell.get("source", ""))):
                    if _is_test_cell(cell):
                        found.append(problem("check-undeclared", check=check_id))
            continue
        if not _is_test_cell(cell):
            found.append(problem("check-not-grade-cell"))
            continue
        if not isinstance(checks, dict):
            found.append(problem("check-invalid", check="", error="checks must be an object"))
            continue
        source = cell.get("source", "")
        for check_id in sorted(called_ids(source) - set(checks)):
            found.append(problem("check-undeclared", check=check_id))
        for check_id, data in checks.items():
            found.extend(_check_problems(problem, str(check_id), data, source, need_expected))
            if check_id in seen:
                found.append(
                    problem("check-duplicate-id", check=check_id, other_cell=seen[check_id])
                )
            else:
                seen[str(check_id)] = index + 1
    return found


def _check_problems(
    problem: Any, check_id: str, data: Any, source: str, need_expected: bool
) -> Iterable[SourceProblem]:
    if not CHECK_ID.fullmatch(check_id):
        yield problem("check-id-invalid", check=check_id)
        return
    if not isinstance(data, dict):
        yield problem("check-invalid", check=check_id, error="a check must be an object")
        return
    for key, value in data.items():
        kinds = OPTION_TYPES.get(key)
        if kinds is None:
            yield problem("check-invalid", check=check_id, error=f"unknown key '{key}'")
        elif not isinstance(value, kinds) or (bool in kinds) != isinstance(value, bool):
            yield problem("check-invalid", check=check_id, error=f"'{key}' has the wrong type")
        elif key in ("rtol", "atol") and not (
            isinstance(value, int | float) and math.isfinite(value) and value >= 0
        ):
            yield problem("check-invalid", check=check_id, error=f"'{key}' must be 0 or more")
        elif key == "sequence" and value not in SEQUENCES:
            yield problem("check-invalid", check=check_id, error="'sequence' is 'exact' or 'any'")
    messages = data.get("messages")
    missing = [
        lang
        for lang in LANGUAGES
        if not isinstance(messages, dict)
        or not isinstance(messages.get(lang), str)
        or not messages[lang].strip()
    ]
    if missing:
        yield problem("check-messages", check=check_id, languages=", ".join(missing))
    if check_id not in called_ids(source):
        yield problem("check-not-called", check=check_id)
    if "expected" not in data:
        if need_expected:
            yield problem("check-no-expected", check=check_id)
        return
    try:
        elements = size(data["expected"])
        chars = len(json.dumps(data["expected"]))
    except (ValueError, TypeError) as error:
        yield problem("check-expected-invalid", check=check_id, error=str(error))
        return
    if elements > MAX_ELEMENTS or chars > MAX_CHARS * 4:
        yield problem("check-expected-too-large", check=check_id, limit=MAX_ELEMENTS)


def without_expected(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` whose checks hold no expected values (what record-checks fills)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        checks = _raw_checks(cell)
        if isinstance(checks, dict):
            for data in checks.values():
                if isinstance(data, dict):
                    data.pop("expected", None)
    return nb
