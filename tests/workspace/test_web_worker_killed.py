"""The web worker SIGKILLed during a burst of saves (gunicorn, as ``make run`` serves): every
save the page was told succeeded (200, naming its revision) is in the database afterwards,
with the text that was sent."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.db import db
from lms.workspace.models import Draft, DraftRevision
from tests.assignments.conftest import ROOT, live_stack, people_of
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker"), pytest.mark.slow]

SAVES = 40  # per learner: under the 50 autosaves a draft keeps


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--threads", "4", "--graceful-timeout", "1",
    ]  # fmt: skip
    with open(log, "wb") as out:
        return subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def web_worker_pids(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def wait_serving(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


class Page:
    """A learner's workspace page: logs in, saves as the script does, remembers each save
    it was told succeeded."""

    def __init__(self, server: str, email: str, path: str) -> None:
        self.http = requests.Session()
        form = self.http.get(server + "/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        self.http.post(
            server + "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        html = self.http.get(server + path).text
        config = json.loads(html.split('id="ws-config">')[1].split("</script>")[0])
        self.csrf, self.base, self.url = config["csrf"], config["revision"], server + path
        self.cells = self.http.get(self.url + "/draft").json()["cells"]
        self.confirmed: dict[int, str] = {}

    def save(self, text: str) -> None:
        cells = []
        for cell in self.cells:
            out = {"id": cell["id"], "type": cell["type"]}
            if cell.get("grade_id"):
                out["grade_id"] = cell["grade_id"]
            if cell["role"] != "locked":
                out["source"] = text if cell.get("grade_id") == "answer" else cell["source"]
            cells.append(out)
        try:
            response = self.http.post(
                self.url + "/draft",
                json={"base": self.base, "cells": cells},
                headers={"X-CSRFToken": self.csrf},
                timeout=10,
                allow_redirects=False,
            )
            body = response.json()
        except (requests.RequestException, ValueError):
            return  # not confirmed: the page keeps its copy and tries again
        if response.status_code == 200 and body.get("saved") is True:
            self.base = body["revision"]
            self.confirmed[self.base] = text
        elif response.status_code == 409:
            self.base = body["current"]  # "keep mine": the next save goes on the head


def test_every_confirmed_save_survives_a_sigkilled_web_worker(tmp_path, worker_id):
    with live_stack(tmp_path, worker_id) as stack:
        app = stack["app"]
        people = [people_of(app) for _ in range(3)]
        port = free_port()
        env = {**stack["env"], "LMS_RATELIMIT_ENABLED": "false", "LMS_BASE_URL": "http://x"}
        server = gunicorn(env, port, tmp_path / "gunicorn.log")
        url = f"http://127.0.0.1:{port}"
        try:
            wait_serving(url)
            pages = [
                Page(url, p["learner"][1], f"/courses/{p['slug']}/assignments/add/workspace")
                for p in people
            ]

            def burst(page: Page, label: str) -> None:
                for n in range(SAVES):
                    page.save(f"# {label} save {n}\ndef add(a, b):\n    return a + b")

            threads = [
                threading.Thread(target=burst, args=(p, f"learner{i}")) for i, p in enumerate(pages)
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            killed = web_worker_pids(server.pid)
            assert killed
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
            for thread in threads:
                thread.join(timeout=120)
            assert all(len(p.confirmed) > 5 for p in pages)
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        with Session(db.engine(app)) as session:
            for page, person in zip(pages, people, strict=True):
                stored = {
                    r.number: next(c for c in r.cells if c.get("grade_id") == "answer")["source"]
                    for r in session.scalars(
                        select(DraftRevision)
                        .join(Draft, Draft.id == DraftRevision.draft_id)
                        .where(Draft.user_id == person["learner"][0])
                    )
                }
                lost = {n: t for n, t in page.confirmed.items() if stored.get(n) != t}
                assert not lost, f"confirmed but not stored: {sorted(lost)[:5]}"
