"""gunicorn with two workers: /metrics adds up both, survives a killed worker, cleans up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.monitoring.conftest import free_port, scrape, value

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_every_worker_counts_and_a_killed_one_keeps_its_counts(tmp_path, fresh_database):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "PROMETHEUS_"))}
    env.update(
        LMS_DATABASE_URL=fresh_database,
        LMS_INSTANCE_PATH=str(tmp_path),
        LMS_SECRET_KEY="test-secret-key",
        LMS_RATELIMIT_ENABLED="false",
        LMS_BROKER_URL=f"filesystem://{tmp_path / 'broker'}",
    )
    log = tmp_path / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:lms.monitoring.gunicorn_conf",
        "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", "2",
    ]  # fmt: skip
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while scrape(f"{base}/healthz")[0] != 200:
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.2)
        directories = list((tmp_path / "metrics").iterdir())
        assert [d.name for d in directories] == [f"web-{server.pid}"]
        # At least 40 requests, and until both workers have answered: a worker warms up
        # (lms/warmup.py) before its first request, so the second may join late.
        sent, deadline = 0, time.monotonic() + 60
        files: set[str] = set()
        while sent < 40 or len(files) < 2:
            assert time.monotonic() < deadline, "one worker never answered"
            urllib.request.urlopen(f"{base}/healthz", timeout=10).read()
            sent += 1
            files = {p.name.rsplit("_", 1)[-1] for p in directories[0].glob("counter_*.db")}
        labels = {"endpoint": "main.healthz", "method": "GET", "status": "200"}
        _, text = scrape(f"{base}/metrics")
        counted = value(text, "oqu_http_requests_total", **labels)
        assert counted >= sent + 1  # the wait's own successful probe(s) and these
        assert len(files) == 2, "both workers answered and wrote their own counts"

        workers = _children(server.pid)
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(set(_children(server.pid)) - {workers[0]}) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        _, later = scrape(f"{base}/metrics")
        assert value(later, "oqu_http_requests_total", **labels) >= counted
        assert value(later, "oqu_http_requests_in_progress") == 1  # only this scrape
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert not list((tmp_path / "metrics").iterdir()), "the server removed its directory"
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    assert any(x["logger"] == "gunicorn.error" for x in lines), "gunicorn logs JSON too"
    healthz = [x for x in lines if x.get("endpoint") == "main.healthz"]
    assert len(healthz) >= 41 and all(len(x["request_id"]) == 32 for x in healthz)
