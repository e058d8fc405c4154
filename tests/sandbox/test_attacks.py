"""Hostile code in a sandboxed kernel is stopped; ordinary code in the same kernel runs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.conftest import execute

pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("sandbox")]

REPO = Path(__file__).resolve().parents[2]
ORDINARY = "print(sum(i * i for i in range(10)))"


def assert_still_works(kernel) -> None:
    result = execute(kernel, ORDINARY)
    assert result.error is None and result.stdout == "285\n"


def test_ordinary_code_runs_as_an_unprivileged_user_with_course_libraries(kernel):
    result = execute(
        kernel,
        "import os, numpy, pandas, sklearn, matplotlib.pyplot as plt\n"
        "print(os.getuid(), os.getcwd(), int(numpy.arange(5).sum()),\n"
        "      pandas.DataFrame({'a': [1, 2]}).a.sum())",
    )
    assert result.error is None and result.stderr == ""
    uid, cwd, total, pandas_sum = result.stdout.split()
    assert int(uid) not in (0, os.getuid()) and cwd == "/tmp/work"
    assert (total, pandas_sum) == ("10", "3")


def test_tcp_connection_to_a_port_listening_on_the_hosts_loopback_fails(kernel):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        result = execute(
            kernel, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)"
        )
        assert result.error is not None and "ConnectionRefusedError" in result.error
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever reached the host's listener
        result = execute(kernel, "import socket\nsocket.getaddrinfo('pypi.org', 443)")
        assert result.error is not None  # no DNS, no route
    finally:
        listener.close()
    assert_still_works(kernel)


def test_vsock_and_other_socket_families_are_refused(kernel):
    result = execute(
        kernel,
        "import socket\nfails = []\n"
        "for family in (socket.AF_VSOCK, socket.AF_PACKET, socket.AF_ALG):\n"
        "    try:\n        socket.socket(family, socket.SOCK_DGRAM)\n"
        "    except OSError as e:\n        fails.append(e.errno)\n"
        "print(fails)",
    )
    assert result.error is None and result.stdout == "[97, 97, 97]\n"
    assert_still_works(kernel)


@pytest.fixture
def beside_the_platform() -> Iterator[Path]:
    """A world-readable folder in the checkout, where the platform keeps its files.

    (Not pytest's tmp_path: the sandbox gives the kernel an empty /tmp of its own, so a file
    there would stay hidden even from a sandbox that bound the whole host.)
    """
    folder = Path(tempfile.mkdtemp(prefix=".sandbox-target-", dir=REPO))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_platform_files_are_not_visible(kernel, beside_the_platform):
    folder = beside_the_platform
    database = folder / "oqu.db"
    with sqlite3.connect(database) as db:
        db.execute("create table secret(v text)")
        db.execute("insert into secret values ('learner-passwords')")
    readable = folder / "readable.txt"
    readable.write_text("top secret")
    os.chmod(readable, 0o644)
    os.chmod(database, 0o644)
    # Every target is readable by the grader; the platform's own database and key when
    # `make` has created them.
    targets = [
        str(database),
        str(readable),
        str(REPO / "instance" / "secret_key"),
        str(REPO / "instance" / "oqu.db"),
        str(REPO / "lms" / "config.py"),
        "/etc/shadow",
        "/root/.bash_history",
        "/work/shared/DESIGN.md",
    ]
    assert all(os.access(t, os.R_OK) for t in targets[:2] + targets[4:5])
    result = execute(
        kernel,
        f"import os\nfound = []\nfor path in {targets!r}:\n"
        "    try:\n        found.append((path, open(path).read(10)))\n"
        "    except OSError as e:\n        pass\n"
        "print(found, os.path.exists('/work'), os.path.exists('/root'))",
    )
    assert result.error is None and result.stdout == "[] False False\n"
    assert_still_works(kernel)


def test_the_graders_environment_is_not_visible(kernel_factory, monkeypatch):
    secret = "fake-secret-key-4f1c9a"
    monkeypatch.setenv("LMS_SECRET_KEY", secret)
    monkeypatch.setenv("LMS_DATABASE_URL", f"postgresql://oqu:{secret}@db/oqu")
    kernel = kernel_factory()
    code = (
        "import os, glob\nleaks = [k for k, v in os.environ.items() if 'LMS' in k + v]\n"
        "for path in glob.glob('/proc/*/environ'):\n"
        "    try:\n        data = open(path, 'rb').read()\n    except OSError:\n"
        "        continue\n"
        f"    if b'LMS_' in data or {secret.encode()!r} in data:\n        leaks.append(path)\n"
        "print(leaks, len(open('/proc/1/environ','rb').read()),"
        " sorted(os.environ)[:3])"
    )
    result = execute(kernel, code)
    assert result.error is None
    assert result.stdout.startswith("[] 0 ")  # bwrap's own process has an empty environment
    assert secret not in result.stdout
    assert_still_works(kernel)


def test_nothing_outside_the_private_tmp_is_writable(kernel, sandbox_settings):
    targets = [
        "/x",
        "/etc/passwd",
        "/usr/x",
        "/dev/x",
        "/opt/oqu-kernel/x",
        "/tmp/home/.matplotlib/fontlist-v3.11.0.json",
        os.path.join(str(kernel.directory), "ipc", "x"),
        "/proc/x",
    ]
    result = execute(
        kernel,
        f"import os\nwritten = []\nfor path in {targets!r}:\n"
        "    try:\n        open(path, 'a').write('x')\n"
        "        written.append(path)\n    except OSError:\n        pass\n"
        "open('/tmp/ok', 'w').write('fine')\n"
        "open('/dev/shm/ok', 'w').write('x')\n"
        "print(written, open('/tmp/ok').read())",
    )
    assert result.error is None and result.stdout == "[] fine\n"
    # The host side of the ipc directory holds the kernel's five sockets and nothing else.
    assert sorted(os.listdir(kernel.directory / "ipc")) == [f"k-{n}" for n in range(1, 6)]
    assert_still_works(kernel)


def test_filling_the_disk_stops_at_the_private_tmp_size(kernel, sandbox_settings):
    host_free = shutil.disk_usage("/").free
    code = (
        "import os\nwritten = 0\nfor target in ('/tmp/fill', '/dev/shm/fill', 'fill'):\n"
        "    try:\n        with open(target, 'wb') as f:\n"
        "            for _ in range(10_000):\n"
        "                f.write(b'x' * 2**20); written += 2**20\n"
        "    except OSError as e:\n        print(target, e.errno)\n"
        "print(written // 2**20)"
    )
    result = execute(kernel, code, timeout=60)
    assert result.error is None
    lines = result.stdout.split()
    assert lines[0:6:2] == ["/tmp/fill", "/dev/shm/fill", "fill"]
    assert set(lines[1:6:2]) <= {"27", "28"}  # EFBIG (file size limit) or ENOSPC
    assert int(lines[-1]) <= 2 * sandbox_settings.disk_mb + 2
    assert abs(host_free - shutil.disk_usage("/").free) < 20 * 2**20
    execute(kernel, "import os\nfor t in ('/tmp/fill', '/dev/shm/fill', 'fill'): os.remove(t)")
    assert_still_works(kernel)


def test_dangerous_system_calls_are_refused(kernel):
    code = (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nres = {}\n"
        "calls = {'ptrace': (101, 16, 1, 0, 0), 'unshare_user': (272, 0x10000000),\n"
        "         'mount': (165, b'none', b'/tmp', b'tmpfs', 0, 0), 'keyctl': (250, 0),\n"
        "         'bpf': (321, 0, 0, 0), 'io_uring_setup': (425, 1, 0),\n"
        "         'userfaultfd': (323, 0), 'perf_event_open': (298, 0, 0, -1, -1, 0)}\n"
        "for name, args in calls.items():\n"
        "    ctypes.set_errno(0)\n"
        "    rc = libc.syscall(*args)\n"
        "    res[name] = (rc, ctypes.get_errno())\n"
        "print(sorted(set(res.values())))\n"
        "import subprocess\n"
        "print(subprocess.run(['unshare', '-U', 'true']).returncode != 0)"
    )
    result = execute(kernel, code)
    assert result.error is None, result.error
    assert result.stdout.splitlines() == ["[(-1, 1)]", "True"]  # all EPERM
    assert_still_works(kernel)


def test_the_master_notebook_and_hidden_tests_are_nowhere_to_be_found(
    kernel, tmp_path, beside_the_platform
):
    marker = "oqu-hidden-test-marker-7d3e"
    for folder in (tmp_path, beside_the_platform):
        master = folder / f"master-{marker}.ipynb"
        master.write_text(json.dumps({"cells": [{"source": f"assert answer == 42  # {marker}"}]}))
        os.chmod(folder, 0o755)
        os.chmod(master, 0o644)
    # File names everywhere; contents everywhere except the read-only system trees bound
    # from the host (/usr and the kernel's environment), which the platform never writes.
    code = f"""
import os, stat
marker, hits = {marker!r}, []
for root, dirs, files in os.walk('/'):
    if root in ('/proc', '/sys'):
        dirs[:] = []
        continue
    for name in files + dirs:
        path = os.path.join(root, name)
        if marker in path:
            hits.append(path)
        elif name in files and not root.startswith(('/usr', '/opt')):
            try:
                if stat.S_ISREG(os.stat(path).st_mode):
                    if marker.encode() in open(path, 'rb').read(1 << 20):
                        hits.append(path)
            except OSError:
                pass
print(hits)
"""
    result = execute(kernel, code, timeout=120)
    assert result.error is None and result.stdout == "[]\n"
    assert_still_works(kernel)
