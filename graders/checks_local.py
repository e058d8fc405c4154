"""``oqu_check(check_id, value)``: the only thing a check cell runs in the learner's kernel.

The grader sends this file's source into every kernel it runs a notebook in (the scoring
run, the feedback run, the workspace's Run and ``record-checks``) before the first cell,
executes it in a private namespace and binds ``oqu_check`` in the notebook's namespace. An
author may also import it in Jupyter (``from graders.checks_local import oqu_check``); the
grader's binding is the same code.

``oqu_check`` decides nothing. It turns ``value`` into tagged JSON (``to_tagged``) and
emits ONE display output whose only data is ``{CHECK_MIME: {"id": ..., "value": ...}}``.
The grader, outside the kernel, compares that value with the expected one it keeps in the
master notebook (``graders.checks``); expected values never enter the kernel. Learner code
can forge, drop or repeat these outputs, but a forged value is only right if the learner
knows the answer, a repeated id fails the check, and a missing one fails it too.

Serialisation rules (the grader's comparison relies on them):

- exact types only (``type(v) is pd.DataFrame``, never a subclass): ``None``, ``bool``,
  ``int``, ``float`` (NaN and infinities tagged), ``str``, ``list``, ``tuple``, ``dict``
  with ``str`` keys, numpy scalars, numpy arrays of bool, integer, float or string dtype
  (and object arrays holding only ``str``, ``None`` or NaN), pandas ``Series``, ``Index``,
  ``RangeIndex`` and ``DataFrame`` of those dtypes, and pandas' ``string`` dtype (its
  values as ``str``, its NA as null);
- at most ``MAX_ELEMENTS`` elements in all (every scalar, every array element, every index
  label) and ``MAX_CHARS`` characters of strings, counted BEFORE anything is converted;
  nesting at most ``MAX_DEPTH`` deep; a container that holds itself is refused;
- anything else becomes ``{"t": "unreadable", "why": ...}``, which fails the check.

Only the standard library is imported; numpy and pandas are looked up in ``sys.modules``
(a value of theirs means they are loaded).
"""

from __future__ import annotations

import math
import sys
from typing import Any

CHECK_MIME = "application/vnd.oqu.check+json"
MAX_ELEMENTS = 100_000
MAX_CHARS = 1_000_000
MAX_DEPTH = 64
PANDAS_STRINGS = ("string", "str")  # pandas' string dtypes: values as str, NA as null

# Taken when this file is loaded (before any learner cell): later rebinding of the
# builtins by learner code does not change how values are read.
_type, _len, _id, _str, _float, _int, _bool = type, len, id, str, float, int, bool
_isnan, _isinf = math.isnan, math.isinf


_NOTHING = object()


class Unreadable(Exception):
    """The value cannot be sent: ``why`` is "type", "size", "cycle" or "depth"."""

    def __init__(self, why: str, what: str = "") -> None:
        super().__init__(why)
        self.why, self.what = why, what


def _name(t: type) -> str:
    return f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', '?')}"


class _Budget:
    def __init__(self) -> None:
        self.elements = 0
        self.chars = 0

    def room(self, elements: int) -> None:
        """Refuse, before converting anything, a value of ``elements`` more elements."""
        if self.elements + elements > MAX_ELEMENTS:
            raise Unreadable("size")

    def take(self, elements: int, chars: int = 0) -> None:
        self.elements += elements
        self.chars += chars
        if self.elements > MAX_ELEMENTS or self.chars > MAX_CHARS:
            raise Unreadable("size")


def _float_json(x: float) -> float | str:
    if _isnan(x):
        return "nan"
    if _isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _numpy() -> Any:
    return sys.modules.get("numpy")


def _pandas() -> Any:
    return sys.modules.get("pandas")


def _np_scalar_types(np: Any) -> set[type]:
    return {t for t in np.sctypeDict.values() if isinstance(t, type)}


def _kind_of_dtype(dtype: Any) -> str | None:
    """'b', 'i', 'f' or 's' for a dtype this module can send, else None."""
    kind = getattr(dtype, "kind", None)
    if kind in ("b", "i", "f"):
        return _str(kind)
    if kind == "u":
        return "i"
    if kind in ("U", "O"):
        return "s"  # object arrays are checked element by element
    if _str(dtype) in PANDAS_STRINGS:
        return "s"
    return None


def _values(array: Any, kind: str, budget: _Budget) -> list[Any]:
    """A numpy array's elements (C order) as JSON values; ``budget`` already holds its size."""
    items = array.tolist()
    if array.ndim != 1:
        flat: list[Any] = []
        stack = [items]
        while stack:  # depth-first, in order
            top = stack.pop()
            if _type(top) is list:
                stack.extend(reversed(top))
            else:
                flat.append(top)
        items = flat
    if kind == "f":
        return [_float_json(_float(x)) for x in items]
    if kind == "b":
        return [_bool(x) for x in items]
    if kind == "i":
        return [_int(x) for x in items]
    out: list[Any] = []
    na = getattr(_pandas(), "NA", _NOTHING)  # pandas' missing value, if pandas is loaded
    for x in items:
        t = _type(x)
        if t is _str:
            budget.take(0, _len(x))
            out.append(x)
        elif x is None or x is na or (t is _float and _isnan(x)):
            out.append(None)
        else:
            raise Unreadable("type", _name(t))
    return out


def _array(array: Any, budget: _Budget) -> dict[str, Any]:
    kind = _kind_of_dtype(array.dtype)
    if kind is None:
        raise Unreadable("type", f"numpy.ndarray[{array.dtype}]")
    budget.room(_int(array.size))
    budget.take(_int(array.size))
    return {
        "t": "array",
        "dtype": _str(array.dtype),
        "kind": kind,
        "shape": [_int(n) for n in array.shape],
        "v": _values(array, kind, budget),
    }


def _column(values: Any, budget: _Budget) -> dict[str, Any]:
    """A pandas column's values (numpy or ``string`` dtype) as a kind and a list."""
    dtype = values.dtype
    kind = _kind_of_dtype(dtype)
    strings = _str(dtype) in PANDAS_STRINGS
    if kind is None or not (isinstance(dtype, _numpy().dtype) or strings):
        raise Unreadable("type", f"pandas dtype {dtype}")
    budget.room(_len(values))
    budget.take(_len(values))
    array = values.to_numpy(dtype=object, na_value=None) if strings else values.to_numpy()
    return {"dtype": _str(dtype), "kind": kind, "v": _values(array, kind, budget)}


def _index(index: Any, budget: _Budget) -> dict[str, Any]:
    pd = _pandas()
    if _type(index) not in (pd.Index, pd.RangeIndex):
        raise Unreadable("type", _name(_type(index)))
    return {"t": "index"} | _column(index, budget)


def _series(series: Any, budget: _Budget) -> dict[str, Any]:
    return {"t": "series", "index": _index(series.index, budget)} | _column(series, budget)


def _frame(frame: Any, budget: _Budget) -> dict[str, Any]:
    rows, columns = (_int(n) for n in frame.shape)
    budget.room(rows * columns + rows + columns)  # before any column is converted
    data = []
    index = _index(frame.index, budget)
    labels = _index(frame.columns, budget)
    for position in range(columns):
        data.append(_column(frame.iloc[:, position], budget))
    return {"t": "frame", "index": index, "columns": labels, "data": data}


def _tag(value: Any, budget: _Budget, path: set[int], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise Unreadable("depth")
    t = _type(value)
    if value is None:
        budget.take(1)
        return {"t": "none"}
    if t is _bool:
        budget.take(1)
        return {"t": "bool", "v": value}
    if t is _int:
        budget.take(1)
        return {"t": "int", "v": value}
    if t is _float:
        budget.take(1)
        return {"t": "float", "v": _float_json(value)}
    if t is _str:
        budget.take(1, _len(value))
        return {"t": "str", "v": value}
    if t in (list, tuple, dict):
        if _id(value) in path:
            raise Unreadable("cycle")
        budget.room(1 + _len(value))  # each item takes its own share below
        budget.take(1)
        path.add(_id(value))
        try:
            if t is dict:
                items = {}
                for key, item in list(value.items()):
                    if _type(key) is not _str:
                        raise Unreadable("type", f"dict key {_name(_type(key))}")
                    budget.take(0, _len(key))
                    items[key] = _tag(item, budget, path, depth + 1)
                return {"t": "dict", "v": items}
            return {
                "t": "list" if t is list else "tuple",
                "v": [_tag(item, budget, path, depth + 1) for item in list(value)],
            }
        finally:
            path.discard(_id(value))
    np, pd = _numpy(), _pandas()
    if np is not None:
        if t is np.ndarray:
            return _array(value, budget)
        if t in _np_scalar_types(np):
            kind = _kind_of_dtype(np.dtype(t))
            if kind == "b":
                return _tag(_bool(value), budget, path, depth)
            if kind == "i":
                return _tag(_int(value), budget, path, depth)
            if kind == "f":
                return _tag(_float(value), budget, path, depth)
            if t is np.str_:
                return _tag(_str(value), budget, path, depth)
    if pd is not None:
        if t is pd.Series:
            return _series(value, budget)
        if t is pd.DataFrame:
            return _frame(value, budget)
        if t in (pd.Index, pd.RangeIndex):
            return _index(value, budget)
    raise Unreadable("type", _name(t))


def to_tagged(value: Any) -> Any:
    """``value`` as tagged JSON, or ``{"t": "unreadable", ...}`` saying why it cannot be."""
    try:
        return _tag(value, _Budget(), set(), 0)
    except Unreadable as error:
        return {"t": "unreadable", "why": error.why, "type": error.what[:200]}
    except RecursionError:
        return {"t": "unreadable", "why": "depth", "type": ""}


def _publish(payload: dict[str, Any]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():
        print(f"oqu_check {payload['id']!r}: sent (graded outside this kernel)")
        return
    InteractiveShell.instance().display_pub.publish(data={CHECK_MIME: payload}, metadata={})


def oqu_check(check_id: str, value: Any) -> None:
    """Send ``value`` for the check ``check_id``; the grader decides outside the kernel."""
    if _type(check_id) is not _str:
        raise TypeError("oqu_check: the check id must be a str")
    _publish({"id": check_id, "value": to_tagged(value)})


def bind(namespace: dict[str, Any], hidden: dict[str, Any] | None = None) -> None:
    """Bind ``oqu_check`` in a notebook's namespace (``hidden``: IPython's list of names
    ``%who`` leaves out)."""
    namespace["oqu_check"] = oqu_check
    if hidden is not None:
        hidden["oqu_check"] = oqu_check
