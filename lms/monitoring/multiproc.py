"""prometheus_client's multiprocess mode: one directory of counters per server.

gunicorn's workers and a Celery worker's pool processes each write their own files; the
process that answers a scrape adds them up. The directory must be chosen (the variable
``PROMETHEUS_MULTIPROC_DIR`` set) before prometheus_client is first imported in the
server's parent process: gunicorn's ``on_starting`` hook (lms/monitoring/gunicorn_conf.py)
and Celery's ``worker_init`` do it. Nothing here imports prometheus_client at module level.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
_SERVER_DIR = re.compile(r"[a-z]+-(\d+)\Z")
_LIVE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db\Z")


def enabled() -> bool:
    """Whether this process writes its metrics to a multiprocess directory."""
    return bool(os.environ.get(ENV))


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def start(base: Path, role: str) -> Path:
    """Give this server (and the processes it forks) a fresh directory under ``base``."""
    if enabled():
        return Path(os.environ[ENV])
    base.mkdir(parents=True, exist_ok=True)
    sweep(base)
    directory = base / f"{role}-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700)
    os.environ[ENV] = str(directory)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # never from a forked child that exits
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)
    return directory


def sweep(base: Path) -> None:
    """Remove the directories of servers that died without cleaning up."""
    for entry in base.iterdir():
        found = _SERVER_DIR.match(entry.name)
        if found and entry.is_dir() and not _alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of processes that are gone (a killed worker, a pool process
    Celery replaced): their kernels and connections no longer exist."""
    from prometheus_client import multiprocess

    pids = set()
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(directory):
            found = _LIVE_FILE.match(entry.name)
            if found:
                pids.add(int(found.group(1)))
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))
