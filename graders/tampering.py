"""Detecting code that patches the test machinery, for an instructor's review (not blocking).

In the kernel: a fingerprint of the builtins tests rely on, IPython's traceback display,
``sys.excepthook`` and the standard streams is taken before the learner's cells run and
again after; the grader keeps the first one outside the kernel and compares. The probe's
output never reaches the learner (it runs in the scoring kernel, silently). In the
source: classes whose ``__eq__`` always returns True (or ``__ne__`` always False).
"""

from __future__ import annotations

import ast
import json
from typing import Any

from nbformat.notebooknode import NotebookNode

from graders.execute import reply_of
from graders.kernels import KernelHandle

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

_FINGERPRINT = """
def _oqu_fingerprint():
    import builtins, sys, json
    import IPython.core.interactiveshell as _ish
    def fp(o):
        t = type(o)
        name = getattr(o, "__qualname__", None) or getattr(o, "__name__", None)
        return "%s.%s|%s|%s|%d" % (t.__module__, t.__qualname__, getattr(o, "__module__", None),
                                   name, id(o))
    r = {}
    for n in __BUILTINS__:
        r["builtins." + n] = fp(builtins.__dict__.get(n))
    shell = get_ipython()
    for n in ("showtraceback", "_showtraceback", "showsyntaxerror", "run_cell",
              "run_cell_async", "run_ast_nodes", "run_code", "_get_exc_info"):
        r["shell." + n] = fp(getattr(type(shell), n, None))
        r["shell-instance." + n] = str(n in vars(shell))
    kernel = getattr(shell, "kernel", None)
    for n in ("do_execute", "execute_request", "send_response", "_publish_execute_input"):
        r["kernel." + n] = fp(getattr(type(kernel), n, None))
        r["kernel-instance." + n] = str(n in vars(kernel)) if kernel is not None else ""
    handlers = getattr(kernel, "shell_handlers", {})
    r["kernel.handler"] = fp(handlers.get("execute_request"))
    session = getattr(kernel, "session", None)
    r["session.send"] = fp(getattr(type(session), "send", None))
    r["session-instance.send"] = str("send" in vars(session)) if session is not None else ""
    r["InteractiveShell.showtraceback"] = fp(_ish.InteractiveShell.showtraceback)
    r["InteractiveShell._showtraceback"] = fp(_ish.InteractiveShell._showtraceback)
    r["sys.excepthook"] = fp(sys.excepthook)
    r["sys.stdout"] = fp(sys.stdout)
    r["sys.stderr"] = fp(sys.stderr)
    r["sys.displayhook"] = fp(sys.displayhook)
    r["shadowed"] = ",".join(sorted(n for n in __SHADOW__ if n in shell.user_ns))
    return json.dumps(r)
""".replace("__BUILTINS__", repr(WATCHED_BUILTINS)).replace("__SHADOW__", repr(SHADOW_WATCH))

# One expression, evaluated by the kernel after the code above; defined in a private
# namespace, so the learner's names play no part in it.
_EXPRESSION = "(lambda g: (exec(%r, g), g['_oqu_fingerprint']())[1])({'get_ipython': get_ipython})"


class TamperProbe:
    """Takes the in-kernel fingerprint; ``flags(before, after)`` names what changed."""

    expression = _EXPRESSION % _FINGERPRINT

    def collect(
        self, handle: KernelHandle, *, timeout: float, watch: Any = None
    ) -> dict[str, str] | None:
        msg_id = handle.kc.execute(
            "",
            silent=True,
            store_history=False,
            allow_stdin=False,
            user_expressions={"oqu": self.expression},
        )
        reply = reply_of(handle, msg_id, timeout, watch)
        try:
            result = reply["user_expressions"]["oqu"]  # type: ignore[index]
            if result.get("status") != "ok":
                return None
            return json.loads(ast.literal_eval(result["data"]["text/plain"]))
        except Exception:  # noqa: BLE001 - a broken probe is itself a finding
            return None


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
