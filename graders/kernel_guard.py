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
- snapshots, at the same mark, the libraries tests call (``_Libraries``: every loaded
  module's attributes and type, the attributes of the classes they define, ``sys.modules``,
  the import hooks, and the set-up's names for modules and installed callables), and puts
  back before every instructor cell whatever learner code replaced or deleted there;
- looks for classes defined by learner code whose instances say they equal an unrelated
  object.

Learner code runs in the same process and can, with effort, defeat all of this; the
point is that the common tricks stop working and the rest leave traces for a person.
"""

from __future__ import annotations

import builtins
import functools
import gc
import inspect
import io
import json
import operator
import os
import random
import signal
import sys
import sysconfig
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from importlib._bootstrap_external import _NamespacePath as NamespacePath  # type: ignore[attr-defined]
from importlib.machinery import ModuleSpec
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


MAX_NAMES = 20  # names reported per flag
# Packages of the kernel itself: their state changes as it serves requests; what of them
# tests rely on is the machinery above.
KERNEL_PACKAGES = frozenset(
    "IPython ipykernel zmq tornado traitlets jupyter_client jupyter_core comm debugpy "  # noqa: SIM905
    "_oqu_guard".split()
)
# Module attributes that using the libraries rebinds: left alone.
LIBRARY_REBINDS: dict[str, frozenset[str]] = {
    # pyplot binds the backend's functions the first time a figure needs one.
    "matplotlib.pyplot": frozenset(
        {"_backend_mod", "new_figure_manager", "draw_if_interactive", "show"}
    ),
    # the last error, set by every cell that fails; the streams and hooks are the machinery's.
    "sys": frozenset(
        "last_type last_value last_traceback last_exc stdout stderr displayhook excepthook "  # noqa: SIM905
        "ps1 ps2 ps3 tracebacklimit".split()
    ),
    # IPython's output history.
    "builtins": frozenset({"_", "__", "___"}),
    "mimetypes": frozenset({"inited"}),
    # help() picks a pager on first use and binds it in place of the function that picks.
    "pydoc": frozenset({"pager"}),
}
# Class attributes caches add (copyreg's __slotnames__ on a first copy or pickle).
CLASS_REBINDS = frozenset({"__slotnames__", "__annotations__"})
_MISSING = object()
# vars(), past any __dict__ a learner's module type or metaclass defines.
_module_dict: Callable[[object], dict[str, Any]] = vars(types.ModuleType)["__dict__"].__get__
_class_dict: Callable[[type], Any] = vars(type)["__dict__"].__get__
_class_mro: Callable[[type], tuple[type, ...]] = vars(type)["__mro__"].__get__
_class_qualname: Callable[[type], str] = vars(type)["__qualname__"].__get__
_function_code: Callable[[object], types.CodeType] = vars(types.FunctionType)["__code__"].__get__
_is = operator.is_


def _same_start(now: Any, keys: list[str], values: list[object]) -> bool:
    """Whether the dict ``now`` still begins with ``keys`` bound to ``values``, by identity
    (additions come after them; a deletion or a replacement breaks the run)."""
    return (
        len(now) >= len(keys) and all(map(_is, now, keys)) and all(map(_is, now.values(), values))
    )


def _version_views() -> Callable[[dict[str, Any]], Any] | None:
    """A maker of views of CPython's dict version tag (a global counter stored in a dict at
    every change; ``view(d).value`` reads it), to skip dicts untouched since the last look
    without comparing their entries; None where it cannot be had or does not behave (then
    every entry is compared). Views are made once, at the mark: making one is an audited
    event, reading one is not."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 13):
        return None
    try:
        import ctypes

        offset = 3 * ctypes.sizeof(ctypes.c_ssize_t)  # after the refcount, type and size
        number = ctypes.c_uint64.from_address

        def view(mapping: dict[str, Any]) -> Any:
            return number(id(mapping) + offset)

        probe: dict[str, Any] = {}
        tag = view(probe)
        tags = [tag.value, tag.value]
        probe["x"] = 1
        tags.append(tag.value)
        probe["x"] = 2
        tags.append(tag.value)
        del probe["x"]
        tags.append(tag.value)
    except Exception:  # noqa: BLE001 - no ctypes: compare everything
        return None
    steady, changes = tags[0] == tags[1], tags[1:]
    return (
        view if steady and all(a < b for a, b in zip(changes, changes[1:], strict=False)) else None
    )


def _code_like(value: object) -> bool:
    """Something a test calls or looks into: a callable, a class or a module."""
    return callable(value) or issubclass(type(value), types.ModuleType)


def _lazy(value: object) -> bool:
    """One of six's lazy attributes (``six.moves``, also vendored copies of six), which
    deletes itself from its class once resolved."""
    return any(_class_qualname(c) == "_LazyDescr" for c in _class_mro(type(value)))


def _ignored(name: str, old: object, new: object) -> bool:
    """Data a library filled in or reset: a private value (a cache, a flag, a counter), or a
    public one set for the first time (``tempfile.tempdir``, found on first use)."""
    if _code_like(old) or _code_like(new):
        return False
    return name.startswith("_") or old is None


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


class _Libraries:
    """The libraries tests call, as they were at the mark, and their putting back.

    Everything is read with the dicts' own descriptors (what ``vars()`` returns, without the
    lookup a learner's module type or metaclass could override) and compared by identity.
    A dict whose version tag has not moved since the last look is not compared at all; one
    that has is compared entry by entry (two C-level passes when nothing was replaced).
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.modules: list[tuple[str, types.ModuleType, type, list[str], list[object], bool]] = []
        self.classes: list[tuple[type, str, list[str], list[object]]] = []
        # Each dict looked at, a view of its version tag, and the tag when it was last found
        # as it should be (no views: every entry is compared, every time).
        self.views = _version_views()
        self.module_dicts: list[dict[str, Any]] = []
        self.class_dicts: list[dict[str, Any]] = []
        self.module_tags: list[tuple[Any, int]] = []
        self.class_tags: list[tuple[Any, int]] = []
        self.sys_modules: dict[str, Any] = sys.modules
        self.module_names: list[str] = []
        self.module_values: list[object] = []
        self.tops: frozenset[str] = frozenset()
        self.hooks: list[tuple[str, str, list[object]]] = []
        self.names: dict[str, object] = {}
        self.vetted: dict[str, tuple[object, bool]] = {}  # added name -> (entry, trusted)
        # Functions whose code learner code swapped (seen by the audit hook): id -> (the
        # function, its code before). Those of installed packages get their code back.
        self.code_swaps: dict[int, tuple[types.FunctionType, types.CodeType]] = {}
        self.cwd = ""

    @staticmethod
    def _skipped(name: str) -> bool:
        return name == "__main__" or name.partition(".")[0] in KERNEL_PACKAGES

    def mark(self, user_ns: dict[str, Any], hidden: Any) -> None:
        self.sys_modules = sys.modules
        self.module_names = list(self.sys_modules)
        self.module_values = list(self.sys_modules.values())
        self.tops = frozenset(n.partition(".")[0] for n in self.module_names)
        self.cwd = os.path.realpath(os.getcwd()) + os.sep
        self.modules, self.classes, self.module_dicts, self.class_dicts = [], [], [], []
        seen: set[int] = set()
        for name, module in zip(self.module_names, self.module_values, strict=True):
            if not isinstance(module, types.ModuleType) or self._skipped(name):
                continue
            namespace = _module_dict(module)
            if namespace is user_ns:
                continue
            keys, values = list(namespace), list(namespace.values())
            self.modules.append(
                (name, module, type(module), keys, values, "__getattr__" in namespace)
            )
            self.module_dicts.append(namespace)
            for value in values:
                if isinstance(value, type) and value.__flags__ & HEAPTYPE and id(value) not in seen:
                    seen.add(id(value))
                    attributes = _class_dict(value)
                    home = attributes.get("__module__")  # where it says it was defined
                    where = home if type(home) is str else name
                    self.classes.append((value, where, list(attributes), list(attributes.values())))
                    # The dict behind the class's read-only proxy.
                    self.class_dicts.append(gc.get_referents(attributes)[0])
        view = self.views or (lambda d: None)
        self.module_tags = [(v, v.value if v else 0) for v in map(view, self.module_dicts)]
        self.class_tags = [(v, v.value if v else 0) for v in map(view, self.class_dicts)]
        self.hooks = [
            (label, label.partition(".")[2], list(getattr(sys, label.partition(".")[2])))
            for label in ("sys.meta_path", "sys.path_hooks")
        ]
        self.names = {
            name: value
            for name, value in user_ns.items()
            if not name.startswith("_")
            and name not in hidden
            and (
                issubclass(type(value), types.ModuleType)
                or (callable(value) and not self._foreign(value))
            )
        }

    # -- what is the learner's -------------------------------------------------------------

    def _foreign(self, value: object) -> bool:
        """Whether ``value`` is learner code rather than an installed package's (an object
        too odd to look at is)."""
        try:
            return self._foreign_or_raise(value)
        except Exception:  # noqa: BLE001 - see above
            return True

    def _foreign_or_raise(self, value: object) -> bool:
        guard = self.guard
        kind = type(value)
        if kind is types.FunctionType or kind is types.MethodType:
            func = getattr(value, "__func__", value)
            return not guard._installed_file(types.FunctionType.__code__.__get__(func).co_filename)  # type: ignore[attr-defined]
        if issubclass(kind, types.ModuleType):
            return not self._trusted_module(_module_dict(value).get("__name__"), value)
        if issubclass(kind, type):  # never isinstance: it would ask the object's __class__
            return guard._learner_made(value)  # type: ignore[arg-type]
        return guard._learner_made(kind)

    def _trusted_module(self, name: object, module: object) -> bool:
        """An installed, built-in or frozen module, or one beside the notebook (its data
        files) that does not claim a name in a package loaded at the mark."""
        kind = type(module)
        if not issubclass(kind, types.ModuleType):
            return not self.guard._learner_made(kind)
        if self.guard._learner_made(kind):
            return False
        namespace = _module_dict(module)
        file = namespace.get("__file__")
        if type(file) is str:
            if self.guard._installed_file(file):
                return True
            top = name.partition(".")[0] if type(name) is str else ""
            return top not in self.tops and os.path.realpath(file).startswith(self.cwd)
        if name in sys.builtin_module_names:
            return True
        spec = namespace.get("__spec__")
        origin = vars(spec).get("origin") if type(spec) is ModuleSpec else None
        if origin in ("built-in", "frozen"):
            return True
        path = namespace.get("__path__")  # a namespace package: its folders decide
        return (
            path is not None
            and type(path) is NamespacePath
            and all(
                type(p) is str and self.guard._installed_file(os.path.join(p, "")) for p in path
            )
        )

    # -- putting back ----------------------------------------------------------------------

    def restore(self) -> list[str]:
        """Put back what changed since the mark; the names of what was put back."""
        put: list[str] = []
        # Modules first: what comes after calls into them (os.path, importlib).
        tags = self.module_tags
        # What cannot be put back (an odd object raising) is named, and the rest goes on: a
        # failure here must not fail an honest learner's run.
        for i, (name, module, kind, keys, values, had_getattr) in enumerate(self.modules):
            try:
                if type(module) is not kind:
                    object.__setattr__(module, "__class__", kind)
                    put.append(f"type({name})")
                view, tag = tags[i]
                if view is not None and view.value == tag:
                    continue
                now = self.module_dicts[i]
                if not _same_start(now, keys, values):
                    self._module(name, now, keys, values, put)
                if not had_getattr and "__getattr__" in now:
                    del now["__getattr__"]
                    put.append(f"{name}.__getattr__")
                if view is not None:
                    tags[i] = (view, view.value)
            except Exception:  # noqa: BLE001 - see above
                put.append(f"{name} (not put back)")
        tags = self.class_tags
        for i, (cls, where, keys, values) in enumerate(self.classes):
            try:
                view, tag = tags[i]
                if view is not None and view.value == tag:
                    continue
                now = _class_dict(cls)
                if not _same_start(now, keys, values):
                    self._class(cls, where, now, keys, values, put)
                elif len(now) > len(keys):
                    self._added(cls, where, now, list(now)[len(keys) :], put)
                if view is not None:
                    tags[i] = (view, view.value)
            except Exception:  # noqa: BLE001 - see above
                put.append(f"{where}.{_class_qualname(cls)} (not put back)")
        for step, label in (
            (self._code, "__code__"),
            (self._sys_modules, "sys.modules"),
            (self._namespace, "the notebook's names"),
            (self._hooks, "sys.meta_path"),
        ):
            try:
                step(put)
            except Exception:  # noqa: BLE001 - see above
                put.append(f"{label} (not put back)")
        return put

    def _code(self, put: list[str]) -> None:
        for func, code in list(self.code_swaps.values()):
            if _function_code(func) is not code and self.guard._installed_file(code.co_filename):
                func.__code__ = code
                put.append(f"{func.__module__}.{func.__qualname__}.__code__")

    def _namespace(self, put: list[str]) -> None:
        user_ns = self.guard.shell.user_ns
        for name, value in self.names.items():
            now = user_ns.get(name, _MISSING)
            if now is value:
                continue
            user_ns[name] = value
            # A name bound again to an installed module or function is no trick.
            if now is not _MISSING and self._foreign(now):
                put.append(f"{name} (notebook)")

    def _sys_modules(self, put: list[str]) -> None:
        modules, names, values = self.sys_modules, self.module_names, self.module_values
        if len(modules) == len(names) and all(map(_is, map(modules.get, names), values)):
            return
        for name, module in zip(names, values, strict=True):
            if modules.get(name, _MISSING) is not module:
                modules[name] = module
                put.append(f"sys.modules[{name!r}]")
        if len(modules) == len(names):
            return
        for name in list(modules.keys() - set(names)):
            module = modules.get(name)
            known = self.vetted.get(name)
            if known is None or known[0] is not module:
                known = (module, self._trusted_module(name, module))
                self.vetted[name] = known
            if not known[1]:
                del modules[name]
                put.append(f"sys.modules[{name!r}]")

    def _module(
        self, name: str, now: dict[str, Any], keys: list[str], values: list[object], put: list[str]
    ) -> None:
        allowed = LIBRARY_REBINDS.get(name, frozenset())
        for key, value in zip(keys, values, strict=True):
            current = now.get(key, _MISSING)
            if current is value or key in allowed or _ignored(key, value, current):
                continue
            if self._imported_submodule(f"{name}.{key}", current):
                continue  # importing a submodule binds it on its package
            now[key] = value
            put.append(f"{name}.{key}")

    def _imported_submodule(self, name: str, value: object) -> bool:
        return (
            issubclass(type(value), types.ModuleType)
            and self.sys_modules.get(name) is value
            and self._trusted_module(name, value)
        )

    def _class(
        self, cls: type, where: str, now: Any, keys: list[str], values: list[object], put: list[str]
    ) -> None:
        label = f"{where}.{_class_qualname(cls)}"
        saved = dict(zip(keys, values, strict=True))
        for key, value in saved.items():
            current = now.get(key, _MISSING)
            if current is value or key in CLASS_REBINDS or _ignored(key, value, current):
                continue
            if current is _MISSING and _lazy(value):
                continue
            type.__setattr__(cls, key, value)
            put.append(f"{label}.{key}")
        self._added(cls, where, now, [k for k in now if k not in saved], put)

    @staticmethod
    def _added(cls: type, where: str, now: Any, added: list[str], put: list[str]) -> None:
        """A new class attribute is kept; one that hides what a base class had is not."""
        bases = _class_mro(cls)[1:]
        for key in added:
            if key in CLASS_REBINDS or _ignored(key, _MISSING, now[key]):
                continue
            if any(key in _class_dict(base) for base in bases):
                type.__delattr__(cls, key)
                put.append(f"{where}.{_class_qualname(cls)}.{key}")

    def _hooks(self, put: list[str]) -> None:
        for label, name, saved in self.hooks:
            now = _module_dict(sys).get(name)
            if type(now) is not list:
                continue  # sys itself was put back above: this is the saved list
            if len(now) == len(saved) and all(map(_is, now, saved)):
                continue
            ids = {id(h) for h in saved}
            added = [h for h in now if id(h) not in ids]
            trusted = [h for h in added if not self._foreign(h)]
            missing = any(all(h is not n for n in now) for h in saved)
            if missing or len(trusted) != len(added):
                now[:] = saved + trusted
                put.append(label)


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
        self.libraries = _Libraries(self)
        self.libraries_marked = False
        self.names: dict[str, list[str]] = {}  # flag -> what was put back
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
                if flag == "patched-code" and type(args[0]) is types.FunctionType:
                    # Called before the swap: the code it had, put back with the libraries.
                    self.libraries.code_swaps.setdefault(
                        id(args[0]), (args[0], _function_code(args[0]))
                    )
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

    @staticmethod
    def preload(modules: tuple[str, ...]) -> None:
        """Import the notebook's declared libraries, silently (a failure is left for the
        set-up's own import to report)."""
        with (
            redirect_stdout(io.StringIO()),
            redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            for name in modules:
                try:
                    __import__(name)
                except Exception:  # noqa: BLE001,S112 - see above
                    continue

    def mark(self) -> str:
        """Remember how cells are read and run, and the libraries: called just before the
        first learner cell."""
        self.saved = self._state()
        self.libraries.mark(self.shell.user_ns, self.shell.user_ns_hidden)
        self.libraries_marked = True
        return json.dumps({"marked": True})

    def _note(self, flag: str, names: list[str]) -> None:
        if not names:
            return
        self.found.add(flag)
        kept = self.names.setdefault(flag, [])
        for name in names:
            if len(kept) >= MAX_NAMES:
                break
            if name not in kept:
                kept.append(name)

    def _put_back_all(self) -> None:
        if self.saved is not None:
            self._put_back(self.saved)
        if self.libraries_marked:
            self._note("patched-library", self.libraries.restore())

    def restore(self) -> str:
        """Put back what was marked; every flag found so far, and the names of what was put
        back (a JSON object)."""
        self._put_back_all()
        self.found.update(self._equal_to_anything(deep=False))
        return json.dumps({"found": sorted(self.found), "names": self.names})

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
        self._put_back_all()
        self.found.update(self._equal_to_anything(deep=True))
        return json.dumps(
            {
                "fingerprint": json.loads(self.fingerprint()),
                "found": sorted(self.found),
                "names": self.names,
            }
        )


def install(
    key: str, watched: tuple[str, ...], shadow: tuple[str, ...], preload: tuple[str, ...] = ()
) -> str:
    """Make the run's guard, keep it as ``sys.<key>``, import the declared libraries, take a
    first snapshot of the machinery, and return the fingerprint."""
    guard = Guard(watched, shadow)
    setattr(sys, key, guard)
    guard.preload(preload)
    guard.saved = guard._state()
    return guard.fingerprint()
