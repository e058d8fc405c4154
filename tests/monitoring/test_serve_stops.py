"""``make run``'s bin/serve stops cleanly when systemd (or anyone) TERMs its process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.monitoring.conftest import free_port, scrape

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.xdist_group("worker")]
ROOT = Path(__file__).resolve().parents[2]


def _group(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    continue  # exited, waiting to be reaped
                if os.getpgid(int(entry.name)) == pgid or _session(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
    return found


def _describe(pids: list[int]) -> list[str]:
    names = []
    for pid in pids:
        try:
            names.append(f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return names


def _session(pid: int) -> int:
    return os.getsid(pid)


def test_term_to_the_process_group_stops_web_and_worker(tmp_path, fresh_database):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "PROMETHEUS_"))}
    env.update(
        LMS_DATABASE_URL=fresh_database,
        LMS_INSTANCE_PATH=str(tmp_path),
        LMS_SECRET_KEY="test-secret-key",
        LMS_BROKER_URL=f"filesystem://{tmp_path / 'broker'}",
        LMS_GRADER_SANDBOX="off",
        LMS_BIND=f"127.0.0.1:{port}",
        LMS_WEB_WORKERS="1",
        LMS_WORKER_CONCURRENCY="2",
        LMS_WORKER_METRICS_PORT=str(free_port()),
    )
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen(
            ["bin/serve"], cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    session = serve.pid  # its own session and process group, as under systemd
    try:
        deadline = time.monotonic() + 90
        while not (
            scrape(f"http://127.0.0.1:{port}/healthz")[0] == 200
            and scrape(f"http://127.0.0.1:{env['LMS_WORKER_METRICS_PORT']}/metrics")[0] == 200
        ):
            assert time.monotonic() < deadline and serve.poll() is None, log.read_text()[-3000:]
            time.sleep(0.3)
        time.sleep(2)  # the pool processes are up
        assert len(_group(session)) >= 5  # script, gunicorn and its worker, celery and pool
        os.killpg(session, signal.SIGTERM)
        deadline = time.monotonic() + 45
        while _group(session):
            assert time.monotonic() < deadline, (
                f"still running 45 s after TERM: {_describe(_group(session))}\n"
                f"{log.read_text()[-3000:]}"
            )
            time.sleep(0.5)
        assert serve.wait(timeout=5) is not None
    finally:
        for pid in _group(session):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
