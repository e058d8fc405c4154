"""A pool of pre-started, sandboxed, single-use kernels.

Each kernel is one *run*: a directory on the host (``<base>/<run>/``) holding the
connection file (root only; the launcher hands it to the kernel read-only) and ``ipc/``,
where the kernel binds its ZeroMQ ``ipc`` sockets. ``ipc/`` is writable by the sandbox
user only until the kernel is ready; then it becomes read-only for it, so learner code
can never store anything on the host's disk. The kernel's cwd, /tmp and /dev/shm are
tmpfs mounts of its own mount namespace, sized by ``disk_mb``, gone with the kernel.

Kernels are started by long-lived starter threads: bwrap's --die-with-parent fires when
the *thread* that forked it ends, so starting kernels from short-lived threads would kill
them early.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import grp
import itertools
import json
import logging
import os
import queue
import secrets
import shutil
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

from graders import observe
from graders.errors import GraderError
from graders.kernels import KernelHandle, preload, safe_relative_path
from graders.sandbox import launcher
from graders.sandbox.health import (
    SandboxUnavailable,
    kernel_env,
    launcher_command,
    static_checks,
)
from graders.settings import GraderSettings

log = logging.getLogger(__name__)
_runs = itertools.count(1)
_providers: weakref.WeakSet[SandboxKernelProvider] = weakref.WeakSet()


def runtime_base() -> Path:
    if os.geteuid() == 0:
        return Path("/run/oqu-sandbox")
    return Path(os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/oqu-sandbox-{os.getuid()}") / "oqu"


@dataclass(eq=False)
class SandboxedKernel:
    run: str
    directory: Path
    handle: KernelHandle
    started_at: float = field(default_factory=time.monotonic)


def _new_run(settings: GraderSettings) -> tuple[str, Path, Path]:
    run = f"{os.getpid()}-{next(_runs)}-{secrets.token_hex(4)}"
    base = runtime_base()
    base.mkdir(mode=0o711, parents=True, exist_ok=True)
    directory = base / run
    directory.mkdir(mode=0o711)
    ipc = directory / "ipc"
    ipc.mkdir(mode=0o770)
    os.chown(ipc, -1, grp.getgrnam(settings.sandbox_user).gr_gid)
    os.chmod(ipc, 0o770)
    return run, directory, ipc


def _spec(
    settings: GraderSettings, run: str, directory: Path, ipc: Path, command: list[str] | None = None
) -> str:
    return json.dumps(
        {
            "run": run,
            "user": settings.sandbox_user,
            "kernel_env": kernel_env(settings),
            "ipc_dir": str(ipc),
            "connection_file": str(directory / "kernel.json"),
            "memory_mb": settings.memory_mb,
            "processes": settings.processes,
            "cpu_seconds": settings.cpu_seconds,
            "disk_mb": settings.disk_mb,
            **({"command": command} if command else {}),
        }
    )


def _cleanup_run(run: str, directory: Path) -> None:
    """Kill what is left of a run, remove its cgroups and its directory."""
    if os.geteuid() == 0:
        launcher.cleanup(run)
    else:
        subprocess.run([*launcher_command(), "cleanup", run], check=False, timeout=30)
    with contextlib.suppress(FileNotFoundError):
        os.chmod(directory / "ipc", 0o700)
    shutil.rmtree(directory, ignore_errors=True)


def sweep_stale_runs() -> None:
    """Remove the runs (directories, cgroups) of workers that died without cleaning up."""
    base = runtime_base()
    if base.is_dir():
        for directory in base.iterdir():
            owner = directory.name.split("-", 1)[0]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                _cleanup_run(directory.name, directory)
    if os.geteuid() == 0:
        launcher.sweep()


def probe(settings: GraderSettings, command: list[str]) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` in a sandbox exactly like a kernel's (used by check_sandbox)."""
    run, directory, ipc = _new_run(settings)
    try:
        (directory / "kernel.json").write_text("{}")
        return subprocess.run(
            [*launcher_command(), "start", _spec(settings, run, directory, ipc, command)],
            capture_output=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin"},
        )
    finally:
        _cleanup_run(run, directory)


def start_kernel(settings: GraderSettings, *, timeout: float = 60.0) -> SandboxedKernel:
    """Start one sandboxed kernel and wait until it answers kernel_info."""
    run, directory, ipc = _new_run(settings)
    km = KernelManager(
        transport="ipc", ip=str(ipc / "k"), connection_file=str(directory / "kernel.json")
    )
    km._kernel_spec = KernelSpec(
        argv=[*launcher_command(), "start", _spec(settings, run, directory, ipc)],
        display_name="Python 3 (Oqu sandbox)",
        language="python",
        interrupt_mode="message",
        env={},
        metadata={},
    )
    kernel = None
    try:
        # The kernel's own stdout/stderr (fd 1 and 2) must not reach the worker's log.
        km.start_kernel(
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        kc = km.client()
        kernel = SandboxedKernel(run, directory, KernelHandle(km=km, kc=kc))
        kc.start_channels()
        kc.wait_for_ready(timeout=timeout)
        # From here on learner code may run: the ipc directory becomes read-only for it.
        os.chmod(ipc, 0o750)
        preload(kernel.handle, settings.preload_modules, timeout=timeout)
        return kernel
    except BaseException:
        if kernel is not None:
            destroy(kernel)
        else:
            with contextlib.suppress(Exception):
                km.shutdown_kernel(now=True)
            _cleanup_run(run, directory)
        raise


def destroy(kernel: SandboxedKernel) -> None:
    """Kill the kernel's whole process tree and remove every trace of the run."""
    km = kernel.handle.km
    if os.geteuid() == 0:
        launcher.cleanup(kernel.run)  # SIGKILL everything first: nothing may linger
    with contextlib.suppress(Exception):
        kernel.handle.kc.stop_channels()
    process = getattr(km.provisioner, "process", None)
    if os.geteuid() == 0 and process is not None:
        # Everything is dead already: reap the outer bwrap ourselves (shutdown_kernel would
        # spend 0.1 s polling a process that is gone).
        with contextlib.suppress(Exception):
            process.wait(timeout=5)
        with contextlib.suppress(Exception):
            km.cleanup_resources()
    else:
        with contextlib.suppress(Exception):
            km.shutdown_kernel(now=True)
    _cleanup_run(kernel.run, kernel.directory)


def _sandbox_pid(kernel: SandboxedKernel) -> int:
    """A process inside the sandbox's mount namespace (not the outer bwrap)."""
    outer = kernel.handle.km.provisioner.process.pid  # type: ignore[union-attr]
    for group in launcher.run_cgroups(kernel.run):
        for pid in launcher._pids(group):
            if pid != outer:
                return pid
    raise GraderError("the sandboxed kernel is gone")


def put_files(kernel: SandboxedKernel, files: Mapping[str, bytes], uid: int, gid: int) -> None:
    """Write data files into the kernel's private working directory (/tmp/work)."""
    if not files:
        return
    names = {name: safe_relative_path(name) for name in files}
    if os.geteuid() != 0:
        _put_files_through_kernel(kernel, files)
        return
    work = os.open(f"/proc/{_sandbox_pid(kernel)}/root/tmp/work", os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        with _filesystem_ids(uid, gid):
            for name, data in files.items():
                *parents, leaf = names[name].parts
                fd = os.dup(work)
                try:
                    for part in parents:
                        with contextlib.suppress(FileExistsError):
                            os.mkdir(part, 0o755, dir_fd=fd)
                        new = os.open(part, os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                        os.close(fd)
                        fd = new
                    out = os.open(
                        leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd
                    )
                    with os.fdopen(out, "wb") as f:
                        f.write(data)
                finally:
                    os.close(fd)
    except OSError as error:
        raise GraderError(f"the assignment's files do not fit in the sandbox: {error}") from error
    finally:
        os.close(work)


_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def _filesystem_ids(uid: int, gid: int) -> Iterator[None]:
    """Create files as the sandbox user in this thread only (the tmpfs belongs to its user
    namespace, where root is unmapped); file-system ids are per thread on Linux."""
    _libc.setfsgid(gid)
    _libc.setfsuid(uid)
    try:
        yield
    finally:
        _libc.setfsuid(0)
        _libc.setfsgid(0)
        if _libc.setfsuid(-1) != 0:
            raise RuntimeError("could not restore the file-system user id")


def _put_files_through_kernel(kernel: SandboxedKernel, files: Mapping[str, bytes]) -> None:
    """Without root the host cannot reach the sandbox's tmpfs: the fresh kernel writes them."""
    payload = {name: base64.b64encode(data).decode() for name, data in files.items()}
    code = (
        "def _oqu_put(files):\n"
        "    import base64, os\n"
        "    for name, data in files.items():\n"
        "        os.makedirs(os.path.dirname(name) or '.', exist_ok=True)\n"
        "        with open(name, 'xb') as f:\n"
        "            f.write(base64.b64decode(data))\n"
        f"_oqu_put({payload!r}); del _oqu_put\n"
    )
    reply = kernel.handle.kc.execute_interactive(code, silent=True, store_history=False, timeout=30)
    if reply["content"]["status"] != "ok":
        raise GraderError("the assignment's files could not be written into the sandbox")


class SandboxKernelProvider:
    """Hands out pre-started sandboxed kernels, one per notebook; see graders.kernels."""

    def __init__(self, settings: GraderSettings) -> None:
        static_checks(settings)
        self.settings = settings
        self.size = max(1, settings.pool_size)
        self._ready: queue.Queue[SandboxedKernel] = queue.Queue()
        self._wanted = threading.Semaphore(self.size)  # one permit per missing kernel
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._live: set[SandboxedKernel] = set()
        self._failures = 0
        self._last_error: BaseException | None = None
        import pwd

        user = pwd.getpwnam(settings.sandbox_user)
        self._ids = (user.pw_uid, user.pw_gid)
        sweep_stale_runs()
        self._starters = [
            threading.Thread(target=self._starter, name=f"oqu-sandbox-{i}", daemon=True)
            for i in range(min(self.size, 2))
        ]
        for thread in self._starters:
            thread.start()
        _providers.add(self)
        _install_exit_hooks()

    def _starter(self) -> None:
        while not self._closed.is_set():
            if not self._wanted.acquire(timeout=0.5):
                continue
            if self._closed.is_set():
                break
            observe.kernels(starting=1)
            began = time.monotonic()
            try:
                kernel = start_kernel(self.settings)
            except Exception as error:  # noqa: BLE001 - reported to the next acquire
                observe.kernels(starting=-1)
                observe.report("start_failed", error=str(error))
                log.warning("could not start a sandboxed kernel: %s", error)
                with self._lock:
                    self._failures += 1
                    self._last_error = error
                self._wanted.release()
                time.sleep(min(5.0, 0.2 * self._failures))
                continue
            with self._lock:
                self._failures = 0
                self._live.add(kernel)
            observe.report("started", seconds=time.monotonic() - began)
            observe.kernels(starting=-1, ready=1)
            self._ready.put(kernel)
            if self._closed.is_set():
                self._discard(kernel)

    def _discard(self, kernel: SandboxedKernel) -> None:
        with self._lock:
            self._live.discard(kernel)
        destroy(kernel)

    def _take(self, timeout: float) -> SandboxedKernel:
        began = time.monotonic()
        deadline = began + timeout
        while True:
            if self._closed.is_set():
                raise GraderError("the sandbox kernel pool is shut down")
            try:
                kernel = self._ready.get(timeout=min(0.25, max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                with self._lock:
                    failures, error = self._failures, self._last_error
                if failures >= 3 and error is not None:
                    observe.report("unavailable", error=str(error))
                    raise SandboxUnavailable(
                        f"sandboxed kernels fail to start ({error})",
                        "run `python -m graders.sandbox check`",
                    ) from None
                if time.monotonic() >= deadline:
                    raise GraderError(
                        f"no sandboxed kernel was ready within {timeout:.0f} s"
                    ) from None
                continue
            self._wanted.release()  # a replacement starts in the background
            observe.kernels(ready=-1)
            if kernel.handle.km.is_alive():
                observe.kernels(in_use=1)
                observe.report("acquired", seconds=time.monotonic() - began)
                return kernel
            self._discard(kernel)

    @contextlib.contextmanager
    def acquire(
        self, *, timeout: float, files: Mapping[str, bytes] | None = None
    ) -> Iterator[KernelHandle]:
        for name in files or {}:
            safe_relative_path(name)
        kernel = self._take(timeout)
        try:
            put_files(kernel, files or {}, *self._ids)
            yield kernel.handle
        finally:
            observe.kernels(in_use=-1)
            self._discard(kernel)

    def close(self) -> None:
        """Stop refilling and kill every kernel of the pool (idempotent)."""
        self._closed.set()
        for thread in self._starters:
            if thread is not threading.current_thread():
                thread.join(timeout=70)
        with self._lock:
            kernels = list(self._live)
        for kernel in kernels:
            self._discard(kernel)


def close_all() -> None:
    for provider in list(_providers):
        provider.close()


_hooks_installed = False


def _install_exit_hooks() -> None:
    """atexit, and SIGTERM when nobody else (Celery) handles it: close every pool."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(close_all)
    if threading.current_thread() is threading.main_thread() and signal.getsignal(
        signal.SIGTERM
    ) in (signal.SIG_DFL, None):

        def on_sigterm(signum: int, frame: object) -> None:
            close_all()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
