"""``python -m graders.sandbox bench [N]``: what the sandbox costs, measured here and now.

Prints medians over N rounds (same machine, same run): a sandboxed kernel's cold start
(launch to kernel_info answered), acquire latency from a warm pool, and one notebook's
whole cycle (start, five small cells, kill) sandboxed and unsandboxed.
"""

from __future__ import annotations

import statistics
import time

from graders.kernels import KernelHandle, LocalKernelProvider
from graders.sandbox.pool import SandboxKernelProvider, destroy, start_kernel
from graders.settings import GraderSettings

CELLS = [
    "def add(a, b):\n    return a + b",
    "assert add(1, 2) == 3",
    "x = [i * i for i in range(1000)]",
    "assert sum(x) == 332833500",
    "print('done')",
]


def _run_cells(handle: KernelHandle) -> None:
    for code in CELLS:
        reply = handle.kc.execute_interactive(code, timeout=30, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms (min {min(values) * 1000:.1f})"


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 10
    settings = GraderSettings.from_env()
    cold, plain_cold, sandboxed, plain, warm = [], [], [], [], []
    local = LocalKernelProvider(settings.with_(sandbox="off"))
    for _ in range(rounds):
        started = time.monotonic()
        kernel = start_kernel(settings)
        cold.append(time.monotonic() - started)
        _run_cells(kernel.handle)
        destroy(kernel)
        sandboxed.append(time.monotonic() - started)
        started = time.monotonic()
        with local.acquire(timeout=60) as handle:
            plain_cold.append(time.monotonic() - started)
            _run_cells(handle)
        plain.append(time.monotonic() - started)
    provider = SandboxKernelProvider(settings.with_(pool_size=2))
    try:
        for _ in range(rounds):
            while provider._ready.qsize() < provider.size:
                time.sleep(0.02)
            started = time.monotonic()
            with provider.acquire(timeout=60) as handle:
                warm.append(time.monotonic() - started)
                _run_cells(handle)
    finally:
        provider.close()
    print(f"rounds: {rounds}")
    print(f"sandboxed kernel cold start (to kernel_info): {_ms(cold)}")
    print(f"unsandboxed kernel cold start (same, local):  {_ms(plain_cold)}")
    print(f"acquire from a warm pool:                     {_ms(warm)}")
    print(f"notebook cycle, sandboxed (start+5 cells+kill): {_ms(sandboxed)}")
    print(f"notebook cycle, unsandboxed (same, local):      {_ms(plain)}")
    start_cost = statistics.median(cold) - statistics.median(plain_cold)
    overhead = statistics.median(sandboxed) - statistics.median(plain)
    print(f"sandbox cost at kernel start (median difference): {start_cost * 1000:.1f} ms")
    print(
        f"sandbox overhead per notebook cycle (median difference): {overhead * 1000:.1f} ms"
        " (negative: the sandbox's kill-by-cgroup is faster than jupyter_client's shutdown)"
    )
    return 0
