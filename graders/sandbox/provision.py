"""``python -m graders.sandbox setup``: the sandbox user and the kernels' Python environment.

Idempotent: a run that finds everything in place returns in well under a second. The
environment is a venv of Debian's ``/usr/bin/python3.11`` (the project's pyenv Python under
/root is unreadable by the sandbox user) holding exactly the versions of ipykernel and the
course libraries that the project's own environment has, so that a notebook behaves the
same inside the sandbox as on an instructor's machine.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from graders.sandbox.health import DEFAULT_KERNEL_ENV

# What course notebooks import, plus the kernel itself; versions come from the project venv.
KERNEL_PACKAGES = ("ipykernel", "numpy", "pandas", "scikit-learn", "matplotlib")
# A system Python every user can read; 3.11 like the project, else the distribution's own.
BASE_PYTHONS = ("/usr/bin/python3.11", "/usr/local/bin/python3.11", "/usr/bin/python3")
STAMP = "oqu-kernel.stamp"


def say(message: str) -> None:
    print(f"== sandbox: {message}", flush=True)


def _pins() -> list[str]:
    """Every distribution of the running (project) environment as ``name==version``."""
    skip = {"oqu", "pip", "setuptools", "wheel"}
    pins = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name and name not in skip:
            pins[name] = f"{name}=={dist.version}"
    return sorted(pins.values())


def _requirements(pins: list[str]) -> list[str]:
    by_name = {p.split("==")[0]: p for p in pins}
    missing = [name for name in KERNEL_PACKAGES if name not in by_name]
    if missing:
        raise SystemExit(f"the project environment lacks {', '.join(missing)}; run make install")
    return [by_name[name] for name in KERNEL_PACKAGES]


def ensure_user(name: str) -> pwd.struct_passwd:
    """Create the sandbox user (system account, no shell, no home) unless it exists."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    if os.geteuid() != 0:
        raise SystemExit(f"the sandbox user {name!r} is missing; run this command as root")
    say(f"creating user {name} (no shell, no home)")
    subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        check=True,
    )
    return pwd.getpwnam(name)


def _base_python() -> str:
    for candidate in BASE_PYTHONS:
        usable = "import sys, venv, ensurepip; assert sys.version_info >= (3, 11)"
        if (
            os.access(candidate, os.X_OK)
            and subprocess.run([candidate, "-c", usable], capture_output=True).returncode == 0
        ):
            return candidate
    raise SystemExit(
        "no system Python >= 3.11 with venv (Debian/Ubuntu: apt-get install python3-venv)"
    )


def ensure_kernel_env(env: Path) -> Path:
    """Create or update the venv at ``env``; returns its interpreter."""
    pins = _pins()
    wanted = _requirements(pins)
    digest = hashlib.sha256("\n".join(pins + wanted).encode()).hexdigest()
    python = env / "bin" / "python"
    stamp = env / STAMP
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        say(f"kernel environment {env} is up to date")
        return python
    if not python.exists():
        say(f"creating the kernel environment {env} from {_base_python()}")
        env.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([_base_python(), "-m", "venv", "--clear", str(env)], check=True)
    constraints = env / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    say(f"installing {' '.join(wanted)} (pip's cache is reused)")
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "--progress-bar",
            "off",
            "-c",
            str(constraints),
            *wanted,
        ],
        check=True,
    )
    # Pre-compile so that no kernel ever needs to write into the (read-only) environment.
    subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j", "0", str(env / "lib")],
        check=False,
        stdout=subprocess.DEVNULL,
    )
    # Matplotlib builds its font list on first import (seconds, and fc-list noise on stderr,
    # which would zero a grade cell): build it once here; the launcher binds it read-only.
    mplconfig = env / "share" / "oqu-mplconfig"
    mplconfig.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(python), "-c", "import matplotlib.font_manager"],
        check=True,
        env={"MPLCONFIGDIR": str(mplconfig), "PATH": "/usr/bin:/bin"},
    )
    subprocess.run(["chmod", "-R", "a+rX,go-w", str(env)], check=True)
    stamp.write_text(digest + "\n")
    say("kernel environment ready")
    return python


def setup(*, user: str, env: Path) -> None:
    if shutil.which("bwrap") is None:
        raise SystemExit("bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    ensure_user(user)
    ensure_kernel_env(env)


def main(argv: list[str]) -> int:
    from graders.settings import GraderSettings

    settings = GraderSettings.from_env()
    env = DEFAULT_KERNEL_ENV
    if settings.kernel_python:
        env = Path(settings.kernel_python).parent.parent
    setup(user=settings.sandbox_user, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
