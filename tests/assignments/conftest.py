"""Fixtures for notebook assignments: a course with an nbgrader assignment, notebooks, workers."""

from __future__ import annotations

import contextlib
import copy
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from sqlalchemy.orm import Session

from graders.release import release_notebook
from lms import create_app, migrate
from lms.accounts.models import Person, User, UserRole
from lms.assignments.models import Submission, SubmissionStatus
from lms.courses.models import Assignment, Course, Item, ItemKind, Module, Tier
from lms.db import db
from lms.learning.models import Enrollment
from tests import conftest as base

ROOT = Path(__file__).resolve().parents[2]
VISIBLE_MARK = "visible-test-ran"
HIDDEN_MARK = "HIDDEN-SECRET-7731"


def _meta(
    grade_id: str,
    *,
    grade: bool = False,
    solution: bool = False,
    locked: bool = False,
    points: int | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    """An nbgrader source: one answer, a visible test (1 point), a hidden test (2 points)."""
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Adding numbers\n\nWrite `add(a, b)`.", metadata=_meta("intro", locked=True)
            ),
            new_code_cell(
                "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
                metadata=_meta("answer", solution=True),
            ),
            new_code_cell(
                f"assert add(1, 2) == 3\nprint('{VISIBLE_MARK}')",
                metadata=_meta("test-visible", grade=True, locked=True, points=1),
            ),
            new_code_cell(
                "assert add(0, 0) == 0\n### BEGIN HIDDEN TESTS\n"
                f"print('{HIDDEN_MARK}')\nassert add(2, 2) == 4\n### END HIDDEN TESTS",
                metadata=_meta("test-hidden", grade=True, locked=True, points=2),
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


RELEASE = release_notebook(source_notebook())


def solved(answer: str) -> bytes:
    """The student version with ``answer`` as the solution cell: what a learner uploads."""
    nb = copy.deepcopy(RELEASE.student)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer":
            cell.source = answer
    return nbformat.writes(nb).encode()


CORRECT = "def add(a, b):\n    return a + b"
WRONG = "def add(a, b):\n    return a - b"


@dataclass
class Setup:
    course: Course
    item: Item
    instructor: User
    learner: User


def create_course(
    session: Session, *, owner: User, max_attempts: int | None = 5, published: bool = True
) -> tuple[Course, Item]:
    """A published course with one assignment item built from ``source_notebook``."""
    slug = f"nb-{uuid.uuid4().hex[:8]}"
    course = Course(
        slug=slug,
        tier=Tier.PUBLIC,
        languages=["en"],
        sectors=[],
        title={"en": "Notebook course"},
        summary={"en": "s"},
        published=published,
        owner_id=owner.id,
    )
    module = Module(key="m1", position=0, title={"en": "Module"})
    course.modules.append(module)
    session.add(course)
    session.flush()
    item = Item(
        course_id=course.id,
        module_id=module.id,
        key="add",
        kind=ItemKind.ASSIGNMENT,
        required=True,
        position=0,
        title={"en": "Adding numbers"},
    )
    session.add(item)
    session.flush()
    session.add(
        Assignment(
            item_id=item.id,
            notebook_name="adding",
            source=nbformat.writes(source_notebook()),
            master=nbformat.writes(RELEASE.master),
            student=nbformat.writes(RELEASE.student),
            pass_score=Decimal("0.6"),
            max_attempts=max_attempts,
            auto_points=Decimal(str(RELEASE.auto_points)),
            total_points=Decimal(str(RELEASE.total_points)),
        )
    )
    session.flush()
    return course, item


def enrol(session: Session, user: User, course: Course) -> Enrollment:
    enrollment = Enrollment(user_id=user.id, course_id=course.id, language="en")
    session.add(enrollment)
    session.flush()
    return enrollment


@pytest.fixture
def setup(session: Session, make_user: Callable[..., User]) -> Setup:
    instructor = make_user(roles=["instructor"])
    learner = make_user()
    course, item = create_course(session, owner=instructor)
    enrol(session, learner, course)
    return Setup(course=course, item=item, instructor=instructor, learner=learner)


def upload(client: Any, course: Course, item: Item, data: bytes, name: str = "adding.ipynb") -> Any:
    return client.post(
        f"/courses/{course.slug}/assignments/{item.key}",
        data={"notebook": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


# --- real workers -----------------------------------------------------------------------


def broker_url(folder: Path) -> str:
    return os.environ.get("LMS_TEST_BROKER_URL") or f"filesystem://{folder}"


def worker_env(database_url: str, broker: str, instance: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        {
            "LMS_DATABASE_URL": database_url,
            "LMS_BROKER_URL": broker,
            "LMS_INSTANCE_PATH": str(instance),
            "LMS_SECRET_KEY": "test-secret-key",
            "LMS_GRADER_SANDBOX": os.environ.get("LMS_TEST_GRADER_SANDBOX", "off"),
            "LMS_GRADING_SWEEP_SECONDS": "1",
            "LMS_GRADING_STUCK_SECONDS": "60",
            "LMS_BROKER_POLL_INTERVAL": "0.02",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(more)
    return env


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker with every process it started (pool, beat, kernels)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(env: dict[str, str], workdir: Path, name: str) -> Worker:
    """``celery -A lms.worker worker -B`` in a session of its own, logging to a file."""
    log = workdir / f"{name}.log"
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "lms.worker",
        "worker",
        "-B",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{name}@%h",
        "--schedule",
        str(workdir / f"{name}-beat-schedule"),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Worker(process=process, log=log)


def wait_until(
    check: Callable[[], Any],
    *,
    seconds: float,
    worker: Worker | None = None,
    what: str = "condition",
) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if worker is not None and worker.process.poll() is not None:
            break
        time.sleep(0.05)
    tail = worker.log.read_text(errors="replace")[-3000:] if worker else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


@contextlib.contextmanager
def live_stack(folder: Path, worker_id: str, **env_more: str) -> Iterator[dict[str, Any]]:
    """A committed, migrated database, a broker and queue of their own, and a web app on them;
    ``env`` is what a worker needs to share them."""
    server = os.environ.get("LMS_TEST_DATABASE_URL")
    name = f"oqu_asg_{worker_id}_{uuid.uuid4().hex[:8]}"
    url = base._postgres_database(server, name) if server else f"sqlite:///{folder / 'live.db'}"
    migrate.upgrade(url)
    broker, queue = broker_url(folder / "broker"), f"grading-{name}"
    env = worker_env(url, broker, folder, LMS_GRADING_QUEUE=queue, **env_more)
    app = create_app(base.test_settings(url, folder, BROKER_URL=broker, GRADING_QUEUE=queue))
    try:
        yield {"url": url, "app": app, "env": env, "folder": folder}
    finally:
        db.engine(app).dispose()
        if server:
            base._drop_postgres_database(server, name)


def people_of(app: Any) -> dict[str, Any]:
    """An instructor owning a new course, an enrolled learner, and another instructor."""
    with app.app_context():
        session = db.session()
        made = {}
        for label, roles in (
            ("instructor", ["instructor"]),
            ("learner", []),
            ("outsider", ["instructor"]),
        ):
            person = Person()
            session.add(person)
            session.flush()
            user = User(
                email=f"{label}-{uuid.uuid4().hex[:6]}@example.kz",
                full_name=label,
                region="KZ-75",
                sector="J",
                birth_year=1990,
                sex="female",
                locale="en",
                consent_version="2026-01",
                consented_at=datetime.now(UTC),
                person_key=person.key,
                password_hash=base.password_hash(base.PASSWORD),
            )
            session.add(user)
            session.flush()
            for role in roles:
                session.add(UserRole(user_id=user.id, role=role))
            made[label] = user
        course, item = create_course(session, owner=made["instructor"])
        enrol(session, made["learner"], course)
        session.commit()
        return {
            **{k: (u.id, u.email) for k, u in made.items()},
            "slug": course.slug,
            "course": course,
            "item": item,
        }


def login_as(app: Any, email: str) -> Any:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": base.PASSWORD})
    assert response.status_code in (302, 303)
    return client


def read_submission(app: Any, submission_id: int) -> Submission:
    with Session(db.engine(app), expire_on_commit=False) as session:
        return session.get(Submission, submission_id)


def finished(app: Any, submission_id: int) -> Submission | None:
    found = read_submission(app, submission_id)
    return found if found.status in (SubmissionStatus.GRADED, SubmissionStatus.FAILED) else None
