"""Sandboxed kernels driven through jupyter_client directly (independent of the engine).

Every test here runs on this machine and in CI; they skip, saying why, only where the host
has no sandbox (no bubblewrap, no cgroups, not root). After each kernel the fixtures assert
that nothing of it is left: no process, no cgroup, no run directory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graders.settings import GraderSettings

try:
    from graders.sandbox import SandboxUnavailable, launcher
    from graders.sandbox.health import static_checks
    from graders.sandbox.pool import SandboxedKernel, destroy, start_kernel
except ImportError as error:  # pragma: no cover - the package itself is broken
    pytest.fail(f"graders.sandbox does not import: {error}")

pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("sandbox")]

SETTINGS = GraderSettings(memory_mb=512, processes=48, cpu_seconds=6, disk_mb=32, pool_size=2)


def _why_no_sandbox() -> str | None:
    if os.geteuid() != 0:
        return "the sandbox tests need root (per-run cgroups); run them as root"
    try:
        static_checks(SETTINGS)
    except SandboxUnavailable as error:
        return str(error)
    return None


@pytest.fixture(scope="session")
def sandbox_settings() -> GraderSettings:
    reason = _why_no_sandbox()
    if reason:
        pytest.skip(reason)
    return SETTINGS


@dataclass
class Result:
    """What a cell produced, as a learner would see it."""

    stdout: str = ""
    stderr: str = ""
    error: str | None = None  # "ENAME: evalue"
    values: list[str] = field(default_factory=list)
    output_bytes: int = 0
    timed_out: bool = False


def execute(
    kernel: SandboxedKernel, code: str, *, timeout: float = 30.0, max_output: int = 10 * 1024 * 1024
) -> Result:
    """Run ``code`` and read its iopub messages until idle (or timeout / output cap)."""
    kc = kernel.handle.kc
    msg_id = kc.execute(code, store_history=False)
    result = Result()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or result.output_bytes > max_output:
            result.timed_out = True
            return result
        try:
            msg = kc.get_iopub_msg(timeout=min(remaining, 1.0))
        except Exception:  # queue.Empty
            if not kernel.handle.km.is_alive():
                result.error = "KernelDied"
                return result
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            result.output_bytes += len(content["text"])
            if len(getattr(result, content["name"])) < 100_000:
                setattr(result, content["name"], getattr(result, content["name"]) + content["text"])
        elif kind == "error":
            result.error = f"{content['ename']}: {content['evalue']}"
        elif kind == "execute_result":
            result.values.append(content["data"].get("text/plain", ""))
        elif kind == "status" and content["execution_state"] == "idle":
            return result


def alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (a zombie waiting for its reaper is dead)."""
    running = []
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                running.append(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return running


def assert_gone(run: str, pids: list[int], directory: Path) -> None:
    """Nothing of a destroyed run remains."""
    assert not alive(pids), f"processes left behind: {alive(pids)}"
    assert not [g for g in launcher.run_cgroups(run) if g.exists()], "cgroups left behind"
    assert not directory.exists(), "run directory left behind"


def run_pids(kernel: SandboxedKernel) -> list[int]:
    pids: list[int] = []
    for group in launcher.run_cgroups(kernel.run):
        pids += launcher._pids(group)
    return sorted(set(pids))


@pytest.fixture
def kernel_factory(sandbox_settings: GraderSettings) -> Iterator[Callable[..., SandboxedKernel]]:
    """Start sandboxed kernels (optionally with other limits); all destroyed and checked."""
    started: list[SandboxedKernel] = []

    def start(**changes: object) -> SandboxedKernel:
        kernel = start_kernel(sandbox_settings.with_(**changes))
        started.append(kernel)
        return kernel

    yield start
    for kernel in started:
        pids = run_pids(kernel)
        destroy(kernel)
        assert_gone(kernel.run, pids, kernel.directory)


@pytest.fixture
def kernel(kernel_factory: Callable[..., SandboxedKernel]) -> SandboxedKernel:
    return kernel_factory()
