"""The grader's watch INSIDE a learner's kernel: never imported by the grader, only sent there.

``graders.tampering`` sends this file (compiled) to the scoring kernel before any cell runs;
it is executed in a private namespace and ``install`` keeps one ``Guard`` as an attribute
of ``sys`` under a name chosen per run. The guard:

- fingerprints what tests rely on (builtins, IPython's error display and cell running, the
  kernel's messaging, the standard streams), for a before/after comparison;
- snapshots how IPython reads and runs a cell (input and AST transformers, the prefilter,
  the compiler, cell events, trace and profile functions, the machinery's methods) just
  before the first learner cell, and puts it back before every instructor cell after it:
  learner cells cannot change how a test cell is parsed or run. What it had to put back
  is reported as flags;
- watches, with an audit hook, for audit hooks and trace functions added by learner code
  and for functions whose code is swapped;
- looks for classes defined by learner code whose instances say they equal an unrelated
  object.

Learner code runs in the same process and can, with effort, defeat all of this; the
point is that the common tricks stop working and the rest leave traces for a person.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import json
import os
import random
import signal
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by Python code (or a C extension)
EQUAL_CALL_SECONDS = 0.05  # one comparison with a learner-defined __eq__
EQUAL_SCAN_SECONDS = 0.25  # all of them, in one scan
INTERACTIVITY_HIDING = ("none",)  # settings that hide a test's last value (partial credit)
SHELL_METHODS = (  # noqa: SIM905 - a list that reads as one
    "showtraceback _showtraceback showsyntaxerror run_cell run_cell_async run_ast_nodes "
    "run_code _get_exc_info transform_cell transform_ast user_expressions"
).split()
# Attributes of the shell put back by identity, with the flag a change earns.
SHELL_PARTS = {
    "ast_transformers": "patched-transformers",
    "input_transformers_post": "patched-transformers",
    "input_transformer_manager": "patched-transformers",
    "prefilter_manager": "patched-transformers",
    "compile": "patched-transformers",
    "events": "patched-events",
    "displayhook": "patched-output",
    "display_pub": "patched-output",
}
SYS_PARTS = {
    "excepthook": "patched-traceback",
    "stdout": "patched-output",
    "stderr": "patched-output",
    "displayhook": "patched-output",
}


def _fp(o: object) -> str:
    t = type(o)
    name = getattr(o, "__qualname__", None) or getattr(o, "__name__", None)
    return f"{t.__module__}.{t.__qualname__}|{getattr(o, '__module__', None)}|{name}|{id(o)}"


def _is_method(value: object) -> bool:
    return inspect.isfunction(value) or isinstance(value, staticmethod | classmethod | property)


class _Timeout(BaseException):
    """Raised into a learner's __eq__ that takes too long."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    left, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            # The learner's own alarm, if one was set, goes on as it would have.
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
            if left:
                signal.setitimer(signal.ITIMER_REAL, left, interval)


class _Unrelated:
    __slots__ = ()


def _same(obj: object) -> object:
    return obj


class Guard:
    """One per scoring kernel; methods return JSON text (what user_expressions carry)."""

    def __init__(self, watched: tuple[str, ...], shadow: tuple[str, ...]) -> None:
        from IPython import get_ipython

        self.shell: Any = get_ipython()
        self.watched, self.shadow = watched, shadow
        self.found: set[str] = set()
        paths = sysconfig.get_paths()
        roots = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        roots |= {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        self.roots = tuple(os.path.realpath(r) + os.sep for r in roots if r)
        # This file's code (compiled under a name of its own) is the grader's, not the learner's.
        self.file_cache: dict[str, bool] = {Guard._audit.__code__.co_filename: True}
        self.module_cache: dict[str, Any] = {}
        self.saved: dict[str, Any] | None = None
        sys.addaudithook(self._audit)

    # -- what learner code does between two looks -------------------------------------------

    def _audit(self, event: str, args: tuple) -> None:
        # Called for every audited operation of the process: cheap, and never raises (an
        # exception here would fail the learner's open() or import).
        try:
            if event == "sys.addaudithook":
                self.found.add("patched-tracing")
                return
            if event == "sys.settrace":
                flag = "patched-tracing"
            elif event == "object.__setattr__" and len(args) > 1 and args[1] == "__code__":
                flag = "patched-code"
            else:
                return
            # doctest, a debugger or autoreload (installed code) may do this; learner code
            # that does can jump over a test's lines or rewrite a function under test.
            if not self._installed_file(sys._getframe(1).f_code.co_filename):
                self.found.add(flag)
        except Exception:  # noqa: BLE001,S110 - see above
            pass

    def _installed_file(self, filename: str) -> bool:
        known = self.file_cache.get(filename)
        if known is None:
            known = os.path.realpath(filename).startswith(self.roots)
            self.file_cache[filename] = known
        return known

    # -- the fingerprint --------------------------------------------------------------------

    def fingerprint(self) -> str:
        import IPython.core.interactiveshell as ish

        r: dict[str, str] = {}
        for n in self.watched:
            r["builtins." + n] = _fp(builtins.__dict__.get(n))
        shell = self.shell
        for n in SHELL_METHODS:
            r["shell." + n] = _fp(getattr(type(shell), n, None))
            r["shell-instance." + n] = str(n in vars(shell))
        kernel = getattr(shell, "kernel", None)
        for n in ("do_execute", "execute_request", "send_response", "_publish_execute_input"):
            r["kernel." + n] = _fp(getattr(type(kernel), n, None))
            r["kernel-instance." + n] = str(n in vars(kernel)) if kernel is not None else ""
        handlers = getattr(kernel, "shell_handlers", {})
        r["kernel.handler"] = _fp(handlers.get("execute_request"))
        session = getattr(kernel, "session", None)
        r["session.send"] = _fp(getattr(type(session), "send", None))
        r["session-instance.send"] = str("send" in vars(session)) if session is not None else ""
        r["InteractiveShell.showtraceback"] = _fp(ish.InteractiveShell.showtraceback)
        r["InteractiveShell._showtraceback"] = _fp(ish.InteractiveShell._showtraceback)
        r["sys.excepthook"] = _fp(sys.excepthook)
        r["sys.stdout"] = _fp(sys.stdout)
        r["sys.stderr"] = _fp(sys.stderr)
        r["sys.displayhook"] = _fp(sys.displayhook)
        r["shadowed"] = ",".join(sorted(n for n in self.shadow if n in shell.user_ns))
        return json.dumps(r)

    # -- how a cell is read and run: snapshot and put back ----------------------------------

    def _machinery(self) -> list[tuple[str, object]]:
        """The objects that read, run and display a cell, each with the flag its change earns."""
        shell = self.shell
        kernel = getattr(shell, "kernel", None)
        prefilter = shell.prefilter_manager
        found: list[tuple[str, object]] = [
            ("patched-traceback", shell),
            ("patched-transformers", shell.compile),
            ("patched-transformers", shell.input_transformer_manager),
            ("patched-transformers", prefilter),
            ("patched-events", shell.events),
            ("patched-output", shell.displayhook),
            ("patched-output", shell.display_pub),
        ]
        found += [("patched-transformers", c) for c in getattr(prefilter, "_checkers", [])]
        found += [("patched-transformers", c) for c in getattr(prefilter, "_transformers", [])]
        found += [("patched-transformers", h) for h in getattr(prefilter, "_handlers", {}).values()]
        if kernel is not None:
            found += [("patched-kernel", kernel), ("patched-kernel", kernel.session)]
        return found

    def _attributes(self) -> list[tuple[str, object, str]]:
        """(flag, owner, name): attributes put back by identity."""
        found = [(kind, self.shell, name) for name, kind in SHELL_PARTS.items()]
        return found + [(kind, sys, name) for name, kind in SYS_PARTS.items()]

    def _containers(self) -> list[tuple[str, Any]]:
        """(flag, list or dict): contents put back by identity of their items."""
        shell = self.shell
        itm, prefilter = shell.input_transformer_manager, shell.prefilter_manager
        found: list[tuple[str, Any]] = [
            ("patched-transformers", shell.ast_transformers),
            ("patched-transformers", shell.input_transformers_post),
            ("patched-transformers", itm.cleanup_transforms),
            ("patched-transformers", itm.line_transforms),
            ("patched-transformers", itm.token_transformers),
        ]
        for name in ("_transformers", "_checkers", "_handlers", "_esc_handlers"):
            if isinstance(getattr(prefilter, name, None), list | dict):
                found.append(("patched-transformers", getattr(prefilter, name)))
        found.append(("patched-events", shell.events.callbacks))
        found += [("patched-events", v) for v in shell.events.callbacks.values()]
        return found

    def _classes(self, machinery: list[tuple[str, object]]) -> list[tuple[str, type]]:
        seen: set[int] = set()
        found = []
        itm = self.shell.input_transformer_manager
        extra = [("patched-transformers", t) for t in itm.token_transformers if isinstance(t, type)]
        for kind, obj in machinery:
            for cls in type(obj).__mro__:
                if id(cls) not in seen and cls.__flags__ & HEAPTYPE:
                    seen.add(id(cls))
                    found.append((kind, cls))
        return found + [(k, c) for k, c in extra if id(c) not in seen]

    def _state(self) -> dict[str, Any]:
        machinery = self._machinery()
        return {
            "attributes": [(k, o, n, getattr(o, n)) for k, o, n in self._attributes()],
            "containers": [(k, c, c.copy()) for k, c in self._containers()],
            "builtins": {n: builtins.__dict__.get(n) for n in self.watched},
            "instances": [(k, o, self._shadows(o)) for k, o in machinery],
            "classes": [
                (k, c, {n: v for n, v in vars(c).items() if _is_method(v)})
                for k, c in self._classes(machinery)
            ],
            "interactivity": self.shell.ast_node_interactivity,
            "trace": (
                sys.gettrace(),
                sys.getprofile(),
                threading.gettrace(),
                threading.getprofile(),
            ),
        }

    @staticmethod
    def _shadows(obj: object) -> dict[str, object]:
        """Instance attributes that hide a method of the object's class."""
        try:
            items = list(vars(obj).items())
        except TypeError:
            return {}
        cls = type(obj)
        return {n: v for n, v in items if callable(v) and callable(getattr(cls, n, None))}

    def mark(self) -> str:
        """Remember how cells are read and run: called just before the first learner cell."""
        self.saved = self._state()
        return json.dumps({"marked": True})

    def restore(self) -> str:
        """Put back what was marked; return every flag found so far (JSON list)."""
        if self.saved is not None:
            self._put_back(self.saved)
        self.found.update(self._equal_to_anything(deep=False))
        return json.dumps(sorted(self.found))

    def _put_back(self, saved: dict[str, Any]) -> None:
        found = self.found
        for name, value in saved["builtins"].items():
            if builtins.__dict__.get(name) is not value:
                found.add("patched-builtins")
                builtins.__dict__[name] = value
        for kind, owner, name, value in saved["attributes"]:
            if getattr(owner, name, None) is not value:
                found.add(kind)
                setattr(owner, name, value)
        for kind, container, copy in saved["containers"]:
            if isinstance(container, dict):
                same = container.keys() == copy.keys() and all(
                    container[k] is v for k, v in copy.items()
                )
            else:
                same = len(container) == len(copy) and all(
                    a is b for a, b in zip(container, copy, strict=True)
                )
            if not same:
                if kind != "patched-events" or self._untrusted_callbacks(container, copy):
                    found.add(kind)
                container.clear()
                if isinstance(container, dict):
                    container.update(copy)
                else:
                    container.extend(copy)
        for kind, obj, shadows in saved["instances"]:
            now = self._shadows(obj)
            for name, value in now.items():
                if shadows.get(name) is not value:
                    found.add(kind)
                    vars(obj).pop(name, None)
            for name, value in shadows.items():
                if now.get(name) is not value:
                    found.add(kind)
                    vars(obj)[name] = value
        for kind, cls, methods in saved["classes"]:
            now = {n: v for n, v in vars(cls).items() if _is_method(v)}
            if now.keys() == methods.keys() and all(now[n] is v for n, v in methods.items()):
                continue
            found.add(kind)
            for name in now.keys() - methods.keys():
                delattr(cls, name)
            for name, value in methods.items():
                if now.get(name) is not value:
                    setattr(cls, name, value)
        interactivity = saved["interactivity"]
        if self.shell.ast_node_interactivity != interactivity:
            if self.shell.ast_node_interactivity in INTERACTIVITY_HIDING:
                found.add("patched-transformers")
            self.shell.ast_node_interactivity = interactivity
        trace, profile, thread_trace, thread_profile = saved["trace"]
        if (sys.gettrace(), threading.gettrace()) != (trace, thread_trace):
            found.add("patched-tracing")
            sys.settrace(trace)
            threading.settrace(thread_trace)  # type: ignore[arg-type]
        if (sys.getprofile(), threading.getprofile()) != (profile, thread_profile):
            found.add("patched-tracing")
            sys.setprofile(profile)
            threading.setprofile(thread_profile)  # type: ignore[arg-type]

    def _untrusted_callbacks(self, container: Any, copy: Any) -> bool:
        """Cell event callbacks added since the mark that are not installed packages' code.

        ``%matplotlib inline`` and ``%load_ext autoreload`` in an answer are no finding; a
        lambda or a ``functools.partial`` of the learner's is. Either way all are removed.
        """
        if isinstance(container, dict):
            return any(
                self._untrusted_callbacks(v, copy.get(k, []))
                for k, v in container.items()
                if v is not copy.get(k) and isinstance(v, list)
            )
        before = {id(c) for c in copy}
        for callback in container:
            if id(callback) in before:
                continue
            func = getattr(callback, "__func__", callback)
            code = getattr(func, "__code__", None)
            if not inspect.isfunction(func) or code is None:
                return True
            if not self._installed_file(code.co_filename):
                return True
        return False

    # -- objects equal to everything --------------------------------------------------------

    def _module_installed(self, name: object) -> Any:
        """The module ``name`` if it is a file of an installed package (or built in), else None."""
        if not isinstance(name, str) or name == "__main__":
            return None
        if name in self.module_cache:
            return self.module_cache[name]
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        ok = module is not None and (not isinstance(file, str) or self._installed_file(file))
        self.module_cache[name] = module if ok else None
        return self.module_cache[name]

    def _learner_made(self, cls: type) -> bool:
        """Whether ``cls`` comes from learner code rather than an installed package.

        Its module decides, unless its own ``__eq__``/``__ne__`` was written in a file
        outside the installed packages (a class of the learner's claiming a library's
        module name). Code compiled under a made-up file name is not caught.
        """
        if not cls.__flags__ & HEAPTYPE:
            return False
        if self._module_installed(cls.__dict__.get("__module__", cls.__module__)) is None:
            return True
        for name in ("__eq__", "__ne__"):
            code = getattr(cls.__dict__.get(name), "__code__", None)
            filename = getattr(code, "co_filename", "<")
            if not filename.startswith("<") and not self._installed_file(filename):
                return True
        return False

    @staticmethod
    def _says_equal(make: Callable[[], object], others: tuple[object, ...]) -> bool:
        try:
            with _time_limit(EQUAL_CALL_SECONDS):
                obj = make()
                for other in others:
                    if bool(obj == other) or not bool(obj != other):
                        return True
                del obj
        except BaseException:  # noqa: BLE001 - an __eq__ that fails or hangs proves nothing
            return False
        return False

    @staticmethod
    def _bare(cls: type) -> Callable[[], object]:
        """An instance made without running the learner's __init__ (or __new__)."""
        base = next(c for c in cls.__mro__ if not c.__flags__ & HEAPTYPE)
        return lambda: base.__new__(cls)  # type: ignore[call-overload]

    @staticmethod
    def _all_classes(deep: bool) -> list[type]:
        """Every live class (deep), or only those made directly on ``object``."""
        if not deep:
            return type.__subclasses__(object)
        # Each class is listed by every one of its bases: taken from its first base only.
        found: list[type] = [object]
        i, subclasses, bases = 0, type.__subclasses__, type.__dict__["__bases__"].__get__
        while i < len(found):
            cls, i = found[i], i + 1
            try:
                subs: list[type] = subclasses(cls)
            except TypeError:
                continue
            found += [sub for sub in subs if bases(sub)[0] is cls]
        return found

    def _equal_to_anything(self, deep: bool) -> set[str]:
        """{"always-equal-object"} when a learner-made class equals an unrelated object."""
        deadline = time.perf_counter() + EQUAL_SCAN_SECONDS
        others = (object(), _Unrelated(), random.random() + 1e6, f"oqu-{random.getrandbits(48):x}")
        plain_eq, plain_ne, plain_meta = object.__eq__, object.__ne__, type.__eq__
        for cls in self._all_classes(deep):
            try:
                meta = type(cls)
                # A metaclass of the learner's can make a class itself equal to anything.
                if (
                    meta is not type
                    and meta.__eq__ is not plain_meta
                    and self._learner_made(meta)
                    and self._says_equal(functools.partial(_same, cls), others)
                ):
                    return {"always-equal-object"}
                if cls.__eq__ is plain_eq and cls.__ne__ is plain_ne:
                    continue  # identity: the common case, settled without looking further
                if not self._learner_made(cls):
                    continue
                if self._says_equal(self._bare(cls), others):
                    return {"always-equal-object"}
            except Exception:  # noqa: BLE001,S112 - a class too odd to look at is skipped
                continue
            if time.perf_counter() > deadline:
                break
        return set()

    def finish(self) -> str:
        """After the last cell: the fingerprint, with every flag found (JSON object)."""
        if self.saved is not None:
            self._put_back(self.saved)
        self.found.update(self._equal_to_anything(deep=True))
        return json.dumps(
            {"fingerprint": json.loads(self.fingerprint()), "found": sorted(self.found)}
        )


def install(key: str, watched: tuple[str, ...], shadow: tuple[str, ...]) -> str:
    """Make the run's guard, keep it as ``sys.<key>``, mark, and return the fingerprint."""
    guard = Guard(watched, shadow)
    setattr(sys, key, guard)
    guard.mark()
    return guard.fingerprint()
