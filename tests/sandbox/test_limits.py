"""Resource attacks: memory, processes, CPU, output. The kernel is stopped, the grader lives."""

from __future__ import annotations

import time

import pytest

from graders.sandbox import launcher
from graders.sandbox.pool import destroy
from tests.sandbox.conftest import alive, execute, run_pids
from tests.sandbox.test_attacks import assert_still_works

pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("sandbox")]


def wait_dead(kernel, seconds: float) -> float:
    start = time.monotonic()
    while kernel.handle.km.is_alive():
        if time.monotonic() - start > seconds:
            pytest.fail(f"the kernel was still alive after {seconds} s")
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_huge_allocation_raises_memory_error(kernel):
    result = execute(kernel, "x = bytearray(6 * 2**30)")
    assert result.error == "MemoryError: "
    assert_still_works(kernel)


def test_touching_more_memory_than_the_limit_kills_only_the_kernel(kernel, sandbox_settings):
    result = execute(
        kernel,
        "chunks = []\nfor _ in range(40):\n"
        "    chunks.append(b'x' * (64 << 20))\nprint(len(chunks))",
        timeout=60,
    )
    assert result.error in ("KernelDied", "MemoryError: ")
    memory = launcher.CGROUP_ROOT / "memory" / launcher.GROUP / kernel.run
    if result.error == "KernelDied":
        assert "oom_kill 1" in (memory / "memory.oom_control").read_text()
    limit = int((memory / "memory.limit_in_bytes").read_text())
    assert limit == sandbox_settings.memory_mb * 2**20
    assert int((memory / "memory.max_usage_in_bytes").read_text()) <= limit


def test_hundreds_of_processes_are_capped_by_the_runs_pids_limit(kernel, sandbox_settings):
    result = execute(
        kernel,
        "import subprocess\nprocs = []\ntry:\n"
        "    for _ in range(500):\n"
        "        procs.append(subprocess.Popen(['sleep', '60']))\n"
        "except OSError as e:\n    print(len(procs), e.errno)\n"
        "for p in procs:\n    p.kill(); p.wait()",
        timeout=60,
    )
    assert result.error is None
    started, errno = map(int, result.stdout.split())
    assert 0 < started < sandbox_settings.processes and errno == 11  # EAGAIN
    assert_still_works(kernel)


def test_a_fork_bomb_is_contained_and_killed_with_the_kernel(kernel, sandbox_settings):
    code = (
        "import os, time\nfor _ in range(200):\n    try:\n        os.fork()\n"
        "    except OSError:\n        time.sleep(0.01)\n"
    )
    kernel.handle.kc.execute(code)
    time.sleep(3)
    pids = run_pids(kernel)
    assert len(pids) <= sandbox_settings.processes
    started = time.monotonic()
    destroy(kernel)
    assert time.monotonic() - started < 5
    assert not alive(pids)


def test_an_endless_loop_is_killed_by_the_cpu_time_limit(kernel_factory):
    kernel = kernel_factory(cpu_seconds=2)
    started = time.monotonic()
    result = execute(kernel, "while True:\n    pass", timeout=30)
    assert result.error == "KernelDied"
    assert time.monotonic() - started < 15


def test_a_loop_that_ignores_interrupts_dies_when_the_run_ends(kernel_factory):
    kernel = kernel_factory(cpu_seconds=60)
    kernel.handle.kc.execute(
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    )
    time.sleep(1)
    kernel.handle.km.interrupt_kernel()
    time.sleep(1)
    assert kernel.handle.km.is_alive()  # the interrupt was ignored...
    pids = run_pids(kernel)
    started = time.monotonic()
    destroy(kernel)  # ...but leaving acquire's context (the engine's wall timeout) kills it
    assert time.monotonic() - started < 3
    assert not alive(pids)


def test_printing_gigabytes_is_bounded(kernel_factory, capfd):
    kernel = kernel_factory(cpu_seconds=3)
    code = (
        "import os, sys\nwhile True:\n    print('x' * 10**6)\n"
        "    os.write(1, b'y' * 10**6); os.write(2, b'z' * 10**6)"
    )
    result = execute(kernel, code, timeout=30, max_output=20 * 10**6)
    assert result.timed_out or result.error == "KernelDied"
    # Nobody reads any more: ZeroMQ drops what the client does not take, and the CPU limit
    # ends the kernel; nothing reached the grader's own stdout or stderr.
    assert wait_dead(kernel, 20) < 20
    captured = capfd.readouterr()
    assert "y" * 100 not in captured.out and "z" * 100 not in captured.err
