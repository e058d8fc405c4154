"""The sandbox's privileged launcher: the only code that needs root. Keep it small.

Run as root (``python -I -S launcher.py start SPEC``), it:
1. creates the run's cgroups (v1 memory, pids, cpu; or one cgroup v2 group) with the
   limits of SPEC and moves itself into them;
2. sets rlimits (CPU time, address space, file size, open files, no core dump);
3. drops to the sandbox user (no supplementary groups, real = effective = saved ids);
4. execs bubblewrap with an EMPTY environment (bwrap's own first process is visible as
   /proc/1/environ inside), a seccomp filter and the bind set built here, not by the
   caller: the caller chooses limits and paths, never the command line run as the user.
``cleanup RUN`` kills whatever is left in a run's cgroups and removes them; ``sweep``
removes empty run cgroups left by a worker that died. Only the standard library.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import resource
import signal
import stat
import sys
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "pids", "cpu")
GROUP = "oqu-sandbox"  # parent cgroup of every run
SANDBOX_USER = "oqu-sandbox"  # the only user a non-root (sudo) caller may ask for
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
SANDBOX_ETC = ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts")
CONNECTION_FILE = "/run/oqu/kernel.json"  # where the kernel finds it inside the sandbox


def _seccomp_filter() -> bytes:
    try:
        from graders.sandbox import seccomp
    except ImportError:  # run as a script under -I: load the sibling file by path
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "oqu_seccomp", Path(__file__).with_name("seccomp.py")
        )
        assert spec is not None and spec.loader is not None
        seccomp = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(seccomp)
    return seccomp.build_filter()


def cgroup_v2() -> bool:
    """True where the memory and pids controllers live in the unified (v2) hierarchy."""
    controllers = CGROUP_ROOT / "cgroup.controllers"
    return controllers.exists() and {"memory", "pids"} <= set(controllers.read_text().split())


def run_cgroups(run: str) -> list[Path]:
    if not RUN_ID.match(run):
        raise ValueError(f"bad run id {run!r}")
    if cgroup_v2():
        return [CGROUP_ROOT / GROUP / run]
    return [CGROUP_ROOT / c / GROUP / run for c in V1_CONTROLLERS]


def _write(path: Path, value: object) -> None:
    with open(path, "w") as f:
        f.write(str(value))


def enter_cgroups(run: str, *, memory_mb: int, processes: int, cpus: float) -> None:
    """Create the run's cgroups with their limits and move this process into them."""
    memory = memory_mb * 1024 * 1024
    period = 100_000
    quota = max(1000, int(cpus * period))
    if cgroup_v2():
        parent = CGROUP_ROOT / GROUP
        parent.mkdir(exist_ok=True)
        _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +pids +cpu")
        _write(parent / "cgroup.subtree_control", "+memory +pids +cpu")
        group = parent / run
        group.mkdir()
        _write(group / "memory.max", memory)
        _write(group / "memory.swap.max", 0)
        _write(group / "pids.max", processes)
        _write(group / "cpu.max", f"{quota} {period}")
        _write(group / "cgroup.procs", os.getpid())
        return
    for controller in V1_CONTROLLERS:
        group = CGROUP_ROOT / controller / GROUP / run
        group.mkdir(parents=True)
        if controller == "memory":
            _write(group / "memory.limit_in_bytes", memory)
            if (group / "memory.memsw.limit_in_bytes").exists():
                _write(group / "memory.memsw.limit_in_bytes", memory)
        elif controller == "pids":
            _write(group / "pids.max", processes)
        else:
            _write(group / "cpu.cfs_period_us", period)
            _write(group / "cpu.cfs_quota_us", quota)
        _write(group / "cgroup.procs", os.getpid())


def set_rlimits(*, cpu_seconds: int, memory_mb: int, disk_mb: int) -> None:
    # The address-space cap turns a huge allocation into MemoryError; it is looser than the
    # cgroup's memory limit because threads and libraries reserve address space they never use.
    address_space = (2 * memory_mb + 1024) * 1024 * 1024
    limits = {
        resource.RLIMIT_CPU: (cpu_seconds, cpu_seconds + 2),
        resource.RLIMIT_AS: (address_space, address_space),
        resource.RLIMIT_FSIZE: (disk_mb * 1024 * 1024, disk_mb * 1024 * 1024),
        resource.RLIMIT_NOFILE: (512, 512),
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_MEMLOCK: (0, 0),
    }
    for which, value in limits.items():
        resource.setrlimit(which, value)


def drop_to(user: pwd.struct_passwd) -> None:
    if user.pw_uid == 0 or user.pw_gid == 0:
        raise SystemExit("the sandbox user must not be root")
    os.setgroups([])
    os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
    os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)
    if os.getuid() != user.pw_uid or os.geteuid() != user.pw_uid or os.getgroups():
        raise SystemExit("could not drop privileges")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("privileges were not dropped")


def _data_fd(data: bytes) -> int:
    """An inheritable memfd holding ``data`` (bwrap reads it from offset 0)."""
    fd = os.memfd_create("oqu", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def bwrap_argv(spec: dict, user: pwd.struct_passwd, connection: bytes) -> list[str]:
    env_dir, ipc = spec["kernel_env"], spec["ipc_dir"]
    disk = spec["disk_mb"] * 1024 * 1024
    passwd = f"learner:x:{user.pw_uid}:{user.pw_gid}::/tmp/home:/usr/sbin/nologin\n"
    group = f"learner:x:{user.pw_gid}:\n"
    argv = [
        "/usr/bin/bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for link in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{link}"):
            argv += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    for path in SANDBOX_ETC:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    argv += [
        "--ro-bind-data",
        str(_data_fd(passwd.encode())),
        "/etc/passwd",
        "--ro-bind-data",
        str(_data_fd(group.encode())),
        "/etc/group",
        "--ro-bind-data",
        str(_data_fd(connection)),
        CONNECTION_FILE,
        "--ro-bind",
        env_dir,
        env_dir,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(disk),
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--size",
        str(disk),
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",
        "--bind",
        ipc,
        ipc,
        "--dir",
        "/tmp/home",
        "--dir",
        "/tmp/work",
        "--dir",
        "/tmp/home/.matplotlib",
    ]
    for fontlist in sorted(Path(env_dir, "share", "oqu-mplconfig").glob("fontlist-*.json")):
        argv += ["--ro-bind", str(fontlist), f"/tmp/home/.matplotlib/{fontlist.name}"]
    argv += [
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        "/tmp/work",
        "--clearenv",
    ]
    environment = {
        "HOME": "/tmp/home",
        "USER": "learner",
        "LOGNAME": "learner",
        "TMPDIR": "/tmp",
        "PATH": f"{env_dir}/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "IPYTHONDIR": "/tmp/home/.ipython",
        "MPLCONFIGDIR": "/tmp/home/.matplotlib",
        "MPLBACKEND": "agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for key, value in environment.items():
        argv += ["--setenv", key, value]
    argv += ["--seccomp", str(_data_fd(_seccomp_filter()))]
    command = spec.get("command") or [
        f"{env_dir}/bin/python",
        "-m",
        "ipykernel_launcher",
        "-f",
        CONNECTION_FILE,
        "--HistoryManager.hist_file=:memory:",
    ]
    return argv + ["--", *command]


def _read_invokers_file(path: str, invoker: int) -> bytes:
    """The connection file, only if the invoker owns it (under sudo, root must not read
    /etc/shadow into the sandbox for a worker that asks)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        info = os.fstat(fd)
        if info.st_uid != invoker or not stat.S_ISREG(info.st_mode) or info.st_size > 65536:
            raise SystemExit("the connection file must be a small file of the invoking user")
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def start(spec: dict) -> None:
    """Enter cgroups, set limits, drop privileges and exec bwrap; never returns."""
    # Under sudo the caller is a non-root worker: it may only use the sandbox user.
    invoker = int(os.environ.get("SUDO_UID", "0"))
    if invoker != 0 and spec["user"] != SANDBOX_USER:
        raise SystemExit(f"only {SANDBOX_USER} may be used through sudo")
    user = pwd.getpwnam(spec["user"])
    for key in ("kernel_env", "ipc_dir", "connection_file"):
        if not os.path.isabs(spec[key]) or ".." in Path(spec[key]).parts:
            raise SystemExit(f"{key} must be an absolute path")
    connection = _read_invokers_file(spec["connection_file"], invoker)
    enter_cgroups(
        spec["run"],
        memory_mb=int(spec["memory_mb"]),
        processes=int(spec["processes"]),
        cpus=float(spec.get("cpus", 1.0)),
    )
    set_rlimits(
        cpu_seconds=int(spec["cpu_seconds"]),
        memory_mb=int(spec["memory_mb"]),
        disk_mb=int(spec["disk_mb"]),
    )
    argv = bwrap_argv(spec, user, connection)
    os.umask(0)  # the ipc sockets must be connectable by the (non-root) worker
    drop_to(user)
    os.execve(argv[0], argv, {})


def _pids(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def cleanup(run: str, *, wait: float = 5.0) -> bool:
    """Kill every process of the run and remove its cgroups; True when all are gone."""
    groups = [g for g in run_cgroups(run) if g.exists()]
    deadline = time.monotonic() + wait
    killed: set[int] = set()
    for group in groups:
        while True:
            pids = _pids(group)
            killed.update(pids)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                group.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.005)
    # A killed process leaves its cgroups a moment before it is dead (a zombie): wait.
    while any(_running(pid) for pid in killed):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return False


def sweep() -> list[str]:
    """Remove empty run cgroups whose worker died (run ids start with the worker's pid)."""
    removed = []
    parents = (
        [CGROUP_ROOT / GROUP] if cgroup_v2() else [CGROUP_ROOT / c / GROUP for c in V1_CONTROLLERS]
    )
    for parent in parents:
        if not parent.is_dir():
            continue
        for group in parent.iterdir():
            owner = group.name.split("-", 1)[0]
            if owner.isdigit() and os.path.exists(f"/proc/{owner}"):
                continue  # its worker lives (and may be creating it right now)
            if group.is_dir() and not _pids(group):
                try:
                    group.rmdir()
                    removed.append(str(group))
                except OSError:
                    pass
    return removed


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("the sandbox launcher must run as root", file=sys.stderr)
        return 77
    if len(argv) == 2 and argv[0] == "start":
        start(json.loads(argv[1]))
    elif len(argv) == 2 and argv[0] == "cleanup":
        return 0 if cleanup(argv[1]) else 1
    elif argv == ["sweep"]:
        sweep()
        return 0
    print("usage: launcher.py start SPEC_JSON | cleanup RUN | sweep", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
