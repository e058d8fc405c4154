"""Is the sandbox usable here? ``check_sandbox`` says what to fix, or returns None."""

from __future__ import annotations

import os
import platform
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from graders.errors import NoSandbox
from graders.sandbox import launcher, seccomp
from graders.settings import GraderSettings

DEFAULT_KERNEL_ENV = Path("/opt/oqu-kernel")
SETUP_COMMAND = ".venv/bin/python -m graders.sandbox setup  (as root)"
OFF_HINT = "LMS_GRADER_SANDBOX=off runs learners' code UNSANDBOXED: local development only"
LAUNCHER = str(Path(launcher.__file__).resolve())


class SandboxUnavailable(NoSandbox):
    """The sandbox cannot be used on this host; the message says how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"grading sandbox unavailable: {problem}. Fix: {fix}. ({OFF_HINT})")
        self.problem, self.fix = problem, fix


def kernel_python(settings: GraderSettings) -> str:
    return settings.kernel_python or str(DEFAULT_KERNEL_ENV / "bin" / "python")


def kernel_env(settings: GraderSettings) -> str:
    """The venv directory holding the kernel's interpreter (bound read-only into the sandbox)."""
    return str(Path(kernel_python(settings)).parent.parent)


def launcher_command() -> list[str]:
    """How to run the launcher as root: directly when we are root, else through sudo."""
    if os.geteuid() == 0:
        return [sys.executable, "-I", "-S", LAUNCHER]
    return ["sudo", "-n", "/usr/bin/python3", "-I", "-S", LAUNCHER]


def static_checks(settings: GraderSettings) -> None:
    """Fast checks of what must be present; raises SandboxUnavailable."""
    if sys.platform != "linux":
        raise SandboxUnavailable("the sandbox needs Linux", "grade on a Linux host")
    if not os.access("/usr/bin/bwrap", os.X_OK):
        raise SandboxUnavailable(
            "bubblewrap (/usr/bin/bwrap) is not installed",
            "apt-get install bubblewrap (make run does it as root)",
        )
    try:
        seccomp.build_filter()
    except seccomp.UnsupportedMachine:
        raise SandboxUnavailable(
            f"no seccomp filter for {platform.machine()}", "grade on x86_64 or aarch64"
        ) from None
    try:
        user = pwd.getpwnam(settings.sandbox_user)
    except KeyError:
        raise SandboxUnavailable(
            f"the sandbox user {settings.sandbox_user!r} does not exist", SETUP_COMMAND
        ) from None
    if user.pw_uid == 0:
        raise SandboxUnavailable("the sandbox user is root", "set LMS_GRADER_SANDBOX_USER")
    if not os.path.exists(kernel_python(settings)):
        raise SandboxUnavailable(f"no kernel environment at {kernel_env(settings)}", SETUP_COMMAND)
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        raise SandboxUnavailable(
            "per-run cgroups need root and this process is not root",
            "run the worker as root, or allow it `sudo -n /usr/bin/python3 -I -S "
            f"{LAUNCHER}` (see graders/sandbox/README.md)",
        )
    if (
        os.geteuid() == 0
        and not launcher.cgroup_v2()
        and not all(os.access(launcher.CGROUP_ROOT / c, os.W_OK) for c in launcher.V1_CONTROLLERS)
    ):
        raise SandboxUnavailable(
            "no writable cgroup memory/pids/cpu controllers",
            "mount cgroup v1 controllers or use cgroup v2 with memory, pids and cpu enabled",
        )


def check_sandbox(settings: GraderSettings) -> None:
    """Raise SandboxUnavailable unless a sandboxed Python can start here (about 0.3 s)."""
    static_checks(settings)
    from graders.sandbox.pool import probe

    try:
        output = probe(
            settings,
            [kernel_python(settings), "-I", "-c", "import ipykernel, os; print(os.getuid() != 0)"],
        )
    except subprocess.TimeoutExpired:
        raise SandboxUnavailable("the sandbox probe timed out", "see the launcher's log") from None
    if output.returncode != 0 or output.stdout.strip() != b"True":
        detail = (output.stderr or output.stdout).decode(errors="replace").strip()[-400:]
        fix = SETUP_COMMAND
        if "setting up uid map" in detail or "Operation not permitted" in detail:
            fix = (
                "allow unprivileged user namespaces (Ubuntu 24.04: an AppArmor profile "
                "for bwrap, see graders/sandbox/README.md)"
            )
        elif "sudo" in detail:
            fix = f"allow the worker `sudo -n /usr/bin/python3 -I -S {LAUNCHER}`"
        raise SandboxUnavailable(f"a sandboxed Python did not start ({detail})", fix)
