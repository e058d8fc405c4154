"""The grading sandbox: bubblewrap + seccomp + per-run cgroups, as an unprivileged user.

``SandboxKernelProvider(settings)`` implements ``graders.kernels.KernelProvider`` with a
pool of pre-started, single-use kernels; ``check_sandbox(settings)`` raises
``SandboxUnavailable`` (a ``graders.errors.NoSandbox``) saying how to fix the host.
See README.md in this folder for the design and the production notes.
"""

from graders.sandbox.health import SandboxUnavailable, check_sandbox
from graders.sandbox.pool import SandboxKernelProvider

__all__ = ["SandboxKernelProvider", "SandboxUnavailable", "check_sandbox"]
