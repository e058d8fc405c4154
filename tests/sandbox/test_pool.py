"""The provider: warm pool, single-use kernels, data files, clean-up, fail-closed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graders.errors import NoSandbox
from graders.kernels import provider_for
from graders.sandbox import SandboxKernelProvider, SandboxUnavailable, check_sandbox, launcher
from graders.sandbox.pool import SandboxedKernel, runtime_base
from tests.sandbox.conftest import alive, assert_gone, run_pids

pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("sandbox")]
REPO = Path(__file__).resolve().parents[2]


def run_code(handle, code: str) -> tuple[str, str | None]:
    out: list[str] = []
    error: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            error.append(msg["content"]["ename"])

    handle.kc.execute_interactive(code, output_hook=hook, timeout=30)
    return "".join(out), (error[0] if error else None)


def wait_warm(provider: SandboxKernelProvider, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while provider._ready.qsize() < provider.size:
        assert time.monotonic() < deadline, "the pool never filled"
        time.sleep(0.05)


def own_runs() -> set[str]:
    base = runtime_base()
    prefix = f"{os.getpid()}-"
    return {d.name for d in base.iterdir() if d.name.startswith(prefix)} if base.is_dir() else set()


@pytest.fixture
def provider(sandbox_settings):
    provider = SandboxKernelProvider(sandbox_settings)
    yield provider
    provider.close()
    assert not own_runs(), "the closed pool left run directories"


def test_warm_acquire_is_immediate_and_each_kernel_serves_one_notebook(provider):
    wait_warm(provider)
    seen: list[SandboxedKernel] = []
    for round_ in range(3):
        started = time.monotonic()
        with provider.acquire(timeout=30, files={"data/x.csv": b"a,b\n1,2\n"}) as handle:
            if round_ == 0:
                assert time.monotonic() - started < 0.25  # warm: no kernel start on this path
            out, error = run_code(
                handle,
                "import os\nprint(sorted(os.listdir('.')), "
                "open('data/x.csv').read().split()[1])\n"
                "print('left' in globals()); left = 1",
            )
            assert error is None and out == "['data'] 1,2\nFalse\n"
            kernel = next(k for k in provider._live if k.handle is handle)
            pids = run_pids(kernel)
        seen.append(kernel)
        assert_gone(kernel.run, pids, kernel.directory)
    assert len({k.run for k in seen}) == 3


def test_leaving_acquire_kills_detached_children_even_after_an_error(provider):
    with pytest.raises(RuntimeError), provider.acquire(timeout=60) as handle:
        out, error = run_code(
            handle,
            textwrap.dedent("""
            import os, subprocess
            p = subprocess.Popen(['setsid', 'sh', '-c', 'sleep 300 & sleep 300'],
                                 start_new_session=True)
            print('ok')"""),
        )
        assert out == "ok\n"
        kernel = next(k for k in provider._live if k.handle is handle)
        time.sleep(0.3)
        pids = run_pids(kernel)
        assert len(pids) >= 5  # outer bwrap, bwrap's init, the kernel, setsid's sh, sleeps
        raise RuntimeError("the grader failed mid-run")
    assert_gone(kernel.run, pids, kernel.directory)


def test_unsafe_data_file_names_are_refused(provider):
    for name in ("../escape.csv", "/etc/x", ""):
        with pytest.raises(ValueError), provider.acquire(timeout=30, files={name: b"x"}):
            pass


def test_data_files_larger_than_the_private_disk_fail_cleanly(provider, sandbox_settings):
    from graders.errors import GraderError

    big = b"x" * ((sandbox_settings.disk_mb + 1) * 2**20)
    with pytest.raises(GraderError), provider.acquire(timeout=60, files={"big.bin": big}):
        pass


def test_no_sandbox_means_no_grading(sandbox_settings):
    with pytest.raises(SandboxUnavailable) as error:
        SandboxKernelProvider(sandbox_settings.with_(sandbox_user="oqu-no-such-user"))
    assert "python -m graders.sandbox setup" in str(error.value)
    assert "LMS_GRADER_SANDBOX=off" in str(error.value)
    with pytest.raises(SandboxUnavailable, match="no kernel environment"):
        check_sandbox(sandbox_settings.with_(kernel_python="/nonexistent/bin/python"))
    with pytest.raises(NoSandbox):  # the engine's entry point fails closed too
        provider_for(sandbox_settings.with_(sandbox_user="oqu-no-such-user"))
    check_sandbox(sandbox_settings)  # and the real one works


@pytest.mark.parametrize("ending", ["sigterm", "normal exit"])
def test_the_pool_is_torn_down_when_the_worker_ends(sandbox_settings, ending):
    script = textwrap.dedent("""
        import faulthandler, sys, time
        faulthandler.dump_traceback_later(60, exit=True)
        from graders.sandbox import SandboxKernelProvider
        from graders.settings import GraderSettings
        provider = SandboxKernelProvider(GraderSettings(pool_size=2))
        while provider._ready.qsize() < 2:
            time.sleep(0.05)
        print(' '.join(k.run for k in provider._live), flush=True)
        if sys.stdin.readline().strip() == "wait":
            time.sleep(600)
    """)
    worker = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    runs = worker.stdout.readline().split()
    assert len(runs) == 2
    groups = [g for run in runs for g in launcher.run_cgroups(run)]
    pids = [pid for g in groups for pid in launcher._pids(g)]
    assert pids
    if ending == "sigterm":
        worker.stdin.write("wait\n")
        worker.stdin.flush()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == -signal.SIGTERM
    else:
        worker.stdin.write("exit\n")
        worker.stdin.flush()
        assert worker.wait(timeout=30) == 0
    assert not alive(pids)
    assert not [g for g in groups if g.exists()]
    assert not [run for run in runs if (runtime_base() / run).exists()]


def test_a_notebook_is_graded_end_to_end_in_the_sandbox(provider, monkeypatch):
    from graders.autograde import grade
    from graders.release import release_notebook
    from tests.graders.conftest import SECRET, solve, source_notebook

    monkeypatch.setenv("LMS_SECRET_KEY", "fake-secret-for-the-e2e-test")
    released = release_notebook(source_notebook())
    answer = textwrap.dedent("""
        import os
        assert 'LMS_SECRET_KEY' not in os.environ and open('/proc/1/environ').read() == ''
        ROWS = open('numbers.csv').read().split()
        def add(a, b):
            return a + b""")
    submission = solve(released.student, {"answer": answer})
    result = grade(
        released.master,
        submission,
        settings=provider.settings,
        kernel_provider=provider,
        files={"numbers.csv": b"1\n2\n"},
    )
    assert result.status == "graded", result.reason
    assert result.score == released.auto_points == 3
    assert SECRET not in str(result.summary())
