"""Where kernels come from: the provider interface, and the unsandboxed local provider.

The sandboxed provider (``graders.sandbox.SandboxKernelProvider``) implements the same
interface; ``provider_for(settings)`` picks one and fails closed when no sandbox can be had.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from jupyter_client import BlockingKernelClient, KernelManager

from graders import observe
from graders.errors import GraderError, NoSandbox
from graders.settings import GraderSettings

NO_SANDBOX_HELP = (
    "No sandbox is available to run learners' code: install bubblewrap "
    "(apt-get install bubblewrap) or set LMS_GRADER_SANDBOX=off for local development"
)

log = logging.getLogger(__name__)

# The variables a kernel may see; everything else (secrets above all) stays outside.
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


@dataclass
class KernelHandle:
    """A started kernel, ready (kernel_info answered), with a client whose channels run."""

    km: KernelManager
    kc: BlockingKernelClient


class KernelProvider(Protocol):
    """Hands out single-use kernels; a kernel is never given a second notebook.

    ``acquire(timeout=..., files=...)`` returns a context manager yielding a ready
    ``KernelHandle``. Before the handle is yielded, every entry of ``files`` (a relative
    POSIX path -> bytes, e.g. an assignment's ``data.csv`` or ``jupyter.png``) has been
    written by the provider (never by the kernel) into the kernel's working directory,
    which is a private, empty, writable directory that is also the kernel's cwd. Paths
    that are absolute or contain ``..`` raise ``ValueError``. Leaving the context kills
    the kernel and deletes its directory. ``timeout`` bounds the wait for a ready kernel;
    a provider that cannot give one in time raises ``GraderError``.
    """

    def acquire(
        self, *, timeout: float, files: Mapping[str, bytes] | None = None
    ) -> AbstractContextManager[KernelHandle]: ...


def safe_relative_path(name: str) -> PurePosixPath:
    """``name`` as a relative path that stays inside its directory, else ``ValueError``."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
        raise ValueError(f"not a safe relative file name: {name!r}")
    return path


def write_files(directory: str, files: Mapping[str, bytes] | None) -> None:
    """Write an assignment's data files into a kernel's working directory."""
    for name, data in (files or {}).items():
        target = os.path.join(directory, *safe_relative_path(name).parts)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(data)


def preload(handle: KernelHandle, modules: tuple[str, ...], *, timeout: float = 120.0) -> None:
    """Import ``modules`` in a fresh kernel before any learner code runs. A silent request:
    no name is bound in the learner's namespace, the execution count does not move. A module
    that fails to import is left for the learner's own import to report."""
    if not modules:
        return
    code = f"(lambda: [__import__(m) for m in {list(modules)!r}])()"
    try:
        reply = handle.kc.execute_interactive(
            code, silent=True, store_history=False, timeout=timeout, allow_stdin=False
        )
    except (TimeoutError, RuntimeError) as error:
        raise GraderError(f"the kernel did not finish its preload: {error}") from error
    if reply["content"].get("status") != "ok":
        log.warning("preload of %s failed in a kernel: %s", modules, reply["content"].get("evalue"))


def shutdown(handle: KernelHandle) -> None:
    """Stop a kernel for good: channels closed, process killed."""
    with contextlib.suppress(Exception):
        handle.kc.stop_channels()
    with contextlib.suppress(Exception):
        handle.km.shutdown_kernel(now=True)


class LocalKernelProvider:
    """Plain ipykernels on this machine, UNSANDBOXED: local development and tests only."""

    def __init__(self, settings: GraderSettings | None = None) -> None:
        self.settings = settings or GraderSettings(sandbox="off")
        self.python = self.settings.kernel_python or sys.executable

    def _environment(self, home: str) -> dict[str, str]:
        env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        env.update(HOME=home, IPYTHONDIR=os.path.join(home, ".ipython"), TMPDIR=home)
        env.update(PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="agg")
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        return env

    @contextlib.contextmanager
    def acquire(
        self, *, timeout: float, files: Mapping[str, bytes] | None = None
    ) -> Iterator[KernelHandle]:
        root = tempfile.mkdtemp(prefix="oqu-kernel-")
        home, work = os.path.join(root, "home"), os.path.join(root, "work")
        os.makedirs(home)
        os.makedirs(work)
        handle = None
        began = time.monotonic()
        observe.kernels(starting=1)
        state = "starting"
        try:
            write_files(work, files)
            # ipc sockets in the run's own directory: no TCP port, nothing shared.
            km = KernelManager(
                kernel_name="python3", transport="ipc", ip=os.path.join(root, "kernel")
            )
            km.kernel_spec.argv[0] = self.python  # type: ignore[union-attr]
            km.start_kernel(
                cwd=work,
                env=self._environment(home),
                extra_arguments=["--HistoryManager.hist_file=:memory:"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            kc = km.client()
            handle = KernelHandle(km=km, kc=kc)
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=timeout)
            except RuntimeError as error:
                observe.report("start_failed", error=str(error))
                raise GraderError(f"the kernel did not start: {error}") from error
            # No pool here: the learner waits for the whole start. And no preload: with no
            # pool to hide it, it would only slow each run down; grading and Run both use
            # this provider when the sandbox is off, so they agree.
            observe.kernels(starting=-1, in_use=1)
            state = "in_use"
            observe.report("started", seconds=time.monotonic() - began)
            observe.report("acquired", seconds=time.monotonic() - began)
            yield handle
        finally:
            observe.kernels(**{state: -1})
            if handle is not None:
                shutdown(handle)
            shutil.rmtree(root, ignore_errors=True)


_providers: dict[GraderSettings, KernelProvider] = {}
_providers_lock = threading.Lock()


def provider_for(settings: GraderSettings) -> KernelProvider:
    """The sandboxed provider when the sandbox is on (fail closed), else the local one.

    One provider per settings for the life of the process, so that a sandboxed pool of
    pre-started kernels is shared by every grade run with those settings.
    """
    if not settings.sandbox_enabled:
        return LocalKernelProvider(settings)
    with _providers_lock:
        if settings in _providers:
            return _providers[settings]
        try:
            from graders.sandbox import SandboxKernelProvider, SandboxUnavailable
        except Exception as error:  # noqa: BLE001 - any failure means no sandbox
            raise NoSandbox(f"{NO_SANDBOX_HELP} ({error})") from error
        try:
            provider = SandboxKernelProvider(settings)
        except SandboxUnavailable as error:
            raise NoSandbox(f"{NO_SANDBOX_HELP} ({error})") from error
        _providers[settings] = provider
        return provider


__all__ = [
    "KernelHandle",
    "KernelProvider",
    "LocalKernelProvider",
    "NoSandbox",
    "provider_for",
]
