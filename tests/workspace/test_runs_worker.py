"""Run end to end: the web queues a Run on the ``runs`` queue, a real runs worker (Celery,
``-Q runs -P threads``) executes it, the page reads the outputs. Hostile cells go through
the sandbox (where this machine has one) and end in a clear message, and the worker goes
on serving others."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.assignments.conftest import (
    CORRECT,
    HIDDEN_MARK,
    ROOT,
    VISIBLE_MARK,
    Worker,
    live_stack,
    login_as,
    people_of,
    wait_until,
)

from .conftest import with_answer

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("worker")]


def sandbox_missing() -> str | None:
    from tests.sandbox.conftest import _why_no_sandbox

    return _why_no_sandbox()


def start_runs_worker(env: dict[str, str], folder: Path, queue: str) -> Worker:
    log = folder / f"runs-{uuid.uuid4().hex[:6]}.log"
    cmd = [
        sys.executable, "-m", "celery", "-A", "lms.worker", "worker", "-Q", queue,
        "-P", "threads", "--concurrency=2", "--loglevel=INFO", "--without-gossip",
        "--without-mingle", "--without-heartbeat", "-n", f"runs-{uuid.uuid4().hex[:6]}@%h",
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Worker(process=process, log=log)


def stack_with_runs_worker(folder: Path, worker_id: str, **env: str) -> Iterator[dict[str, Any]]:
    queue = f"runs-{uuid.uuid4().hex[:8]}"
    more = {"LMS_RUN_QUEUE": queue, "LMS_GRADER_PRELOAD": "", "LMS_RUN_POOL_SIZE": "2", **env}
    with live_stack(folder, worker_id, **more) as stack:
        stack["app"].config.update(RUN_QUEUE=queue, RUN_QUEUE_MAX=50)
        stack["worker"] = start_runs_worker(stack["env"], folder, queue)
        try:
            yield stack
        finally:
            stack["worker"].kill()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[dict[str, Any]]:
    yield from stack_with_runs_worker(tmp_path_factory.mktemp("runs-live"), worker_id)


class Learner:
    """A learner's page, seen through its JSON endpoints."""

    def __init__(self, app: Any, email: str, people: dict[str, Any]) -> None:
        self.client = login_as(app, email)
        self.url = f"/courses/{people['slug']}/assignments/{people['item'].key}/workspace"
        draft = self.client.get(self.url + "/draft").get_json()
        self.base, self.cells = draft["revision"], draft["cells"]

    def code(self, answer: str, *extra: str) -> list[dict[str, Any]]:
        """The cells with ``answer`` in the answer cell and ``extra`` own cells after it."""
        cells = with_answer(self.cells, answer)
        at = next(i for i, c in enumerate(cells) if c.get("grade_id") == "answer") + 1
        for n, source in enumerate(extra):
            cells.insert(
                at + n, {"id": f"own{n}{uuid.uuid4().hex[:6]}", "type": "code", "source": source}
            )
        return cells

    def start(self, cells: list[dict[str, Any]], cell_id: str) -> dict[str, Any]:
        response = self.client.post(
            self.url + "/runs", json={"base": self.base, "cells": cells, "cell_id": cell_id}
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        body = response.get_json()
        self.base = body["revision"]
        return body

    def wait(self, started: dict[str, Any], worker: Worker, seconds: float = 240) -> dict[str, Any]:
        # Generous: sandboxed kernels start in seconds on a busy machine; the figures of an
        # idle one are in bench/workspace/run.
        def finished() -> dict[str, Any] | None:
            answer = self.client.get(started["status_url"])
            body = answer.get_json()
            return {**body, "raw": answer.get_data(as_text=True)} if body["finished"] else None

        return wait_until(finished, seconds=seconds, worker=worker, what="the run's outputs")

    def run(self, cells: list[dict[str, Any]], cell_id: str, worker: Worker) -> dict[str, Any]:
        return self.wait(self.start(cells, cell_id), worker)


def shown(result: dict[str, Any], cell_id: str) -> str:
    return json.dumps(result["cells"].get(cell_id, {}), ensure_ascii=False)


def test_a_run_shows_outputs_of_cells_1_to_i_and_never_a_hidden_test(live):
    app, worker = live["app"], live["worker"]
    people = people_of(app)
    learner = Learner(app, people["learner"][1], people)
    cells = learner.code(CORRECT, "print('sum is', add(2, 3))")
    hidden = next(c for c in cells if c.get("grade_id") == "test-hidden")
    result = learner.run(cells, hidden["id"], worker)
    assert result["status"] == "done", result
    assert "sum is 5" in shown(result, cells[2]["id"])
    visible = next(c for c in cells if c.get("grade_id") == "test-visible")
    assert VISIBLE_MARK in shown(result, visible["id"])
    assert HIDDEN_MARK not in result["raw"] and "BEGIN HIDDEN" not in result["raw"]
    page = learner.client.get(learner.url).get_data(as_text=True)
    assert "sum is 5" in page and HIDDEN_MARK not in page  # the last Run's outputs, on reload


def test_a_new_run_stops_the_running_one_between_cells(live):
    app, worker = live["app"], live["worker"]
    people = people_of(app)
    learner = Learner(app, people["learner"][1], people)
    cells = learner.code(
        CORRECT, "import time\ntime.sleep(1.5)", "time.sleep(1.5)", "print('third ran')"
    )
    slow = learner.start(cells, cells[4]["id"])
    time.sleep(0.8)  # the first sleep is running
    quick = learner.run(cells, cells[1]["id"], worker)
    first = learner.wait(slow, worker)
    assert first["status"] == "cancelled" and "third ran" not in first["raw"]
    assert quick["status"] == "done"


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[dict[str, Any]]:
    reason = sandbox_missing()
    if reason:
        pytest.skip(reason)
    yield from stack_with_runs_worker(
        tmp_path_factory.mktemp("runs-sandboxed"),
        worker_id,
        LMS_GRADER_SANDBOX="on",
        LMS_GRADER_CELL_TIMEOUT="10",
        LMS_GRADER_RUN_TIMEOUT="40",
        LMS_GRADER_PROCESSES="32",
        LMS_GRADER_MEMORY_MB="512",
    )


HOSTILE = {
    "endless-loop": ("while True:\n    pass", ["longer than 10 seconds and was stopped"]),
    "fork-bomb": (
        "import os\nchildren = 0\nwhile True:\n    os.fork()\n    children += 1",
        # The pids limit refuses more processes; the loop then ends at the cell's time limit
        # (or the kernel is stopped): a message either way, never a hung worker.
        ["BlockingIOError", "longer than 10 seconds and was stopped", "The kernel stopped"],
    ),
    # 50 MB: cut at the cell's cap as it arrives (on a busy machine the kernel may still be
    # sending it at the time limit: then that is what the learner reads).
    "huge-output": ("print('x' * 50_000_000)", ["Output cut here", "longer than 10 seconds"]),
    "script-in-html": (
        "from IPython.display import HTML, display\n"
        "display(HTML('<b>bold</b><script>window.pwned = 1</script>"
        '<img src=x onerror="alert(1)"><a href="javascript:alert(1)">x</a>\'))',
        ["<b>bold</b>"],
    ),
    "javascript-output": (
        "from IPython.display import Javascript, display\ndisplay(Javascript('window.pwned = 1'))",
        ["interactive or script output"],
    ),
    "ansi-flood": (
        "print('\\x1b[31m' * 200_000 + '\\x1b[2J\\x1b]0;evil\\x07 end \\x1b[1;32mgreen')",
        ["Output cut here"],
    ),
    "network": (
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
        "    print('CONNECTED')\nexcept OSError as e:\n    print('no network:', type(e).__name__)",
        ["no network:"],
    ),
}


@pytest.mark.sandbox
@pytest.mark.slow
def test_hostile_cells_end_in_a_clear_message_and_the_worker_serves_on(sandboxed):
    app, worker = sandboxed["app"], sandboxed["worker"]
    people = people_of(app)
    learner = Learner(app, people["learner"][1], people)
    for name, (code, expected) in HOSTILE.items():
        cells = learner.code(CORRECT, code)
        result = learner.run(cells, cells[2]["id"], worker)
        text = shown(result, cells[2]["id"])
        assert result["status"] == "done", (name, result)
        assert any(e in text for e in expected), (name, text[:2000])
        assert len(result["raw"]) < 600_000, name  # the cap holds in the answer too
        for escaped in ("<script", "onerror", "javascript:", "\\u001b", "CONNECTED", "pwned = 1"):
            assert escaped not in text, (name, escaped)
    # Nothing of the learner's is left in the worker's sandbox or reachable by the next one.
    healthy = learner.run(
        learner.code(CORRECT, "print('still here', add(40, 2))"), learner.cells[1]["id"], worker
    )
    assert healthy["status"] == "done"


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_learner_cannot_read_another_learners_files(sandboxed):
    app, worker = sandboxed["app"], sandboxed["worker"]
    people = people_of(app)
    first = Learner(app, people["learner"][1], people)
    second_people = people_of(app)
    second = Learner(app, second_people["learner"][1], second_people)
    secret = f"SECRET-{uuid.uuid4().hex}"
    writer = first.code(
        CORRECT,
        f"import time, pathlib\npathlib.Path('mine.txt').write_text('{secret}')\n"
        f"pathlib.Path('/tmp/mine.txt').write_text('{secret}')\ntime.sleep(2.5)",
    )
    slow = first.start(writer, writer[2]["id"])
    time.sleep(0.8)
    reader = second.code(
        CORRECT,
        "import glob, os, subprocess\n"
        "found = subprocess.run(['grep', '-rs', 'SECRET-', '/tmp', '/run', '/home', '/var/tmp', "
        "'/dev/shm'], capture_output=True, text=True, timeout=2).stdout\n"
        "procs = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "print('found:', found.count('SECRET-'), 'processes:', len(procs))",
    )
    result = second.run(reader, reader[2]["id"], worker)
    assert secret not in result["raw"] and "found: 0" in shown(result, reader[2]["id"])
    assert first.wait(slow, worker)["status"] == "done"
