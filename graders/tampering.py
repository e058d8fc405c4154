"""Detecting code that patches the test machinery, and undoing what can be undone.

In the kernel (``kernel_guard.py``, sent there): a fingerprint of the builtins tests rely
on, IPython's traceback display, ``sys.excepthook`` and the standard streams is taken before
the learner's cells run and again after; the grader keeps the first one outside the kernel
and compares. How IPython reads and runs a cell (transformers, events, trace functions, the
machinery's methods) and the libraries tests call (modules, their classes, ``sys.modules``,
the set-up's names; ``metadata.oqu.preload`` names more to import first) are put back before
every instructor cell that follows a learner cell, and what had to be put back is flagged
(``flag_details`` names the library parts); classes of the learner's whose instances equal an
unrelated object are flagged. The guard's output never reaches the learner (it runs in the
scoring kernel, silently). In the source: classes whose ``__eq__`` always returns True (or
``__ne__`` always False). Flags ask a person to look; they change no score.
"""

from __future__ import annotations

import ast
import binascii
import functools
import json
import marshal
import re
import secrets
import zlib
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.utils import is_locked

# Names a test cell uses that, shadowed in the learner's namespace, change what it checks.
SHADOW_WATCH = (
    "AssertionError",
    "Exception",
    "isinstance",
    "issubclass",
    "len",
    "abs",
    "print",
    "__import__",
    "all",
    "any",
    "round",
    "float",
)
# Builtins whose identity is fingerprinted: the shadow-watched names and a few more.
WATCHED_BUILTINS = SHADOW_WATCH + (
    "BaseException",
    "int",
    "str",
    "repr",
    "type",
    "sorted",
    "sum",
    "min",
    "max",
    "range",
    "hasattr",
    "getattr",
    "exec",
    "eval",
    "compile",
    "ValueError",
    "TypeError",
    "NameError",
)

GUARD_FILENAME = "<oqu-grader-guard>"
MAX_NAMES = 20  # names kept per flag in ``flag_details``
MAX_PRELOAD = 32  # modules a notebook may declare under metadata.oqu.preload
MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# Runs in the fresh kernel before any cell: the guard in a private namespace, so nothing of
# the learner's (there is nothing yet) plays a part; later calls go through ``sys``.
_INSTALL = "(lambda g: (exec(%s, g), g['install'](%r, %r, %r, %r))[1])({'__name__': '_oqu_guard'})"
# The guard goes as compressed bytecode: a small message, loaded in well under a millisecond
# where compiling the source takes tens of them in a busy sandbox. A kernel of another
# Python version refuses it, and then gets the source.
_FROM_BYTECODE = (
    "__import__('marshal').loads(__import__('zlib').decompress(__import__('binascii')"
    ".a2b_base64(%r))) if __import__('importlib.util').util.MAGIC_NUMBER.hex() == %r "
    "else 'raise ImportError(\"the guard was compiled by another Python\")'"
)
_FROM_SOURCE = "compile(%r, %r, 'exec')"


@functools.cache
def _guard_code() -> tuple[str, str, str]:
    """The guard's source, its compressed bytecode (base64) and this Python's magic (hex)."""
    source = (Path(__file__).parent / "kernel_guard.py").read_text(encoding="utf-8")
    code = zlib.compress(marshal.dumps(compile(source, GUARD_FILENAME, "exec")), 9)
    return source, binascii.b2a_base64(code, newline=False).decode(), MAGIC_NUMBER.hex()


def _decode(result: Any) -> Any:
    """The JSON a guard method returned, from a user_expressions entry; None if it failed."""
    try:
        if result.get("status") != "ok":
            return None
        return json.loads(ast.literal_eval(result["data"]["text/plain"]))
    except Exception:  # noqa: BLE001 - a broken answer is itself a finding
        return None


class TamperProbe:
    """The scoring run's guard, seen from the grader.

    ``install`` (or, for a kernel of another Python, ``install_from_source``) goes with the
    first request and gives the ``before`` fingerprint; ``before(cell)`` names what to
    evaluate in the kernel just before ``cell`` runs (a mark before the first learner cell, a
    restore before every locked cell after it); ``took`` reads the answer; ``finish`` is
    evaluated after the last cell. ``flags`` says what was found.
    """

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self.key = "_oqu_guard_" + secrets.token_hex(8)
        self.preload = preload  # libraries imported before the mark (``preload_of``)
        self.found: set[str] = set()
        self.names: dict[str, list[str]] = {}  # flag -> what the guard put back
        self.before_print: dict[str, str] | None = None
        self.after_print: dict[str, str] | None = None
        self.failed = False  # a check the kernel should have answered did not
        self._learner_seen = False

    @property
    def install(self) -> str:
        _, code, magic = _guard_code()
        loader = _FROM_BYTECODE % (code, magic)
        return _INSTALL % (loader, self.key, WATCHED_BUILTINS, SHADOW_WATCH, self.preload)

    @property
    def install_from_source(self) -> str:
        source = _guard_code()[0]
        loader = _FROM_SOURCE % (source, GUARD_FILENAME)
        return _INSTALL % (loader, self.key, WATCHED_BUILTINS, SHADOW_WATCH, self.preload)

    def _call(self, method: str) -> str:
        # Through sys, never the learner's namespace: only ``__import__`` is looked up there.
        return f"__import__('sys').{self.key}.{method}()"

    @property
    def finish(self) -> str:
        return self._call("finish")

    def before(self, cell: NotebookNode) -> str | None:
        """What to evaluate right before ``cell`` (in the order cells run), if anything."""
        if not is_locked(cell):
            if self._learner_seen:
                return None
            self._learner_seen = True
            return self._call("mark")
        return self._call("restore") if self._learner_seen else None

    def _found(self, value: dict[str, Any]) -> None:
        self.found.update(str(v) for v in value.get("found", []))
        names = value.get("names")
        for flag, found in (names if isinstance(names, dict) else {}).items():
            kept = self.names.setdefault(str(flag), [])
            for name in found if isinstance(found, list) else []:
                if len(kept) < MAX_NAMES and str(name) not in kept:
                    kept.append(str(name))

    def took(self, result: Any) -> bool:
        """Read the answer to a mark or restore; False when it did not come."""
        value = _decode(result)
        if not isinstance(value, dict):
            return False
        if isinstance(value.get("found"), list):
            self._found(value)
            return True
        return value.get("marked") is True

    def took_install(self, result: Any) -> None:
        value = _decode(result)
        self.before_print = value if isinstance(value, dict) else None

    def took_finish(self, result: Any) -> None:
        value = _decode(result)
        if not isinstance(value, dict) or not isinstance(value.get("fingerprint"), dict):
            self.failed = True
            return
        self.after_print = value["fingerprint"]
        self._found(value)

    def flags(self, *, completed: bool) -> list[str]:
        """Every flag the guard earned; the before/after comparison only for a completed run."""
        flags = set(self.found)
        if completed:
            flags.update(compare(self.before_print, self.after_print))
        if self.failed and self.before_print is not None:
            flags.add("probe-failed")
        return sorted(flags)

    def details(self) -> dict[str, list[str]]:
        """For each flag that has them, the names of what the guard put back (at most 20)."""
        return {flag: list(names) for flag, names in sorted(self.names.items()) if names}


def preload_of(source: NotebookNode) -> tuple[str, ...]:
    """The libraries a notebook declares under ``metadata.oqu.preload`` (read from the
    master, never the submission), to import before the mark so that the guard protects
    them; entries that are not module names are left out."""
    oqu = source.get("metadata", {}).get("oqu")
    declared = oqu.get("preload") if isinstance(oqu, dict) else None
    if not isinstance(declared, list):
        return ()
    names = [n for n in declared if isinstance(n, str) and MODULE_NAME.fullmatch(n)]
    return tuple(dict.fromkeys(names))[:MAX_PRELOAD]


def compare(before: dict[str, str] | None, after: dict[str, str] | None) -> list[str]:
    """Flags for what the learner's code changed between the two fingerprints."""
    if before is None:
        return []
    if after is None:
        return ["probe-failed"]
    changed = {k for k in before if before.get(k) != after.get(k)}
    flags = []
    if any(k.startswith("builtins.") for k in changed):
        flags.append("patched-builtins")
    if any(k.startswith(("shell", "InteractiveShell", "sys.excepthook")) for k in changed):
        flags.append("patched-traceback")
    if any(k.startswith(("kernel", "session")) for k in changed):
        flags.append("patched-kernel")
    if changed & {"sys.stdout", "sys.stderr", "sys.displayhook"}:
        flags.append("patched-output")
    if after.get("shadowed"):
        flags.append("shadowed-builtins")
    return flags


def _always(func: ast.FunctionDef | ast.Lambda, value: bool) -> bool:
    """True when every path of ``func`` returns the constant ``value`` (and nothing else)."""
    if isinstance(func, ast.Lambda):
        return isinstance(func.body, ast.Constant) and func.body.value is value
    returns = [n for n in ast.walk(func) if isinstance(n, ast.Return)]
    if not returns:
        return False
    return all(isinstance(r.value, ast.Constant) and r.value.value is value for r in returns)


def always_equal_classes(source: str) -> list[str]:
    """Names of classes in ``source`` whose instances compare equal to anything."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            methods: list[tuple[str, Any]] = []
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                methods.append((item.name, item))
            elif isinstance(item, ast.Assign) and isinstance(item.value, ast.Lambda):
                methods += [(t.id, item.value) for t in item.targets if isinstance(t, ast.Name)]
            for name, func in methods:
                if (name == "__eq__" and _always(func, True)) or (
                    name == "__ne__" and _always(func, False)
                ):
                    found.append(node.name)
    return sorted(set(found))


def source_flags(nb: NotebookNode) -> list[str]:
    """Flags from a static look at the code cells the learner wrote."""
    for cell in nb.cells:
        if cell.cell_type == "code" and always_equal_classes(cell.source):
            return ["always-equal-object"]
    return []
