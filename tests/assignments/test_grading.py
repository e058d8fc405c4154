"""The grading run against a committed database: exactly once, and who is to blame for what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from graders.autograde import CellResult, GradeResult, grade
from graders.errors import NoSandbox
from graders.kernels import LocalKernelProvider
from graders.settings import GraderSettings
from lms.assignments import grading, services
from lms.assignments.models import Regrade, Submission, SubmissionStatus
from lms.db import make_engine, utcnow
from tests.assignments.conftest import CORRECT, create_course, enrol, solved
from tests.conftest import password_hash


@pytest.fixture
def world(fresh_database: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    from lms.accounts.models import Person, User

    engine = make_engine(fresh_database)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        users = []
        for n in range(2):
            person = Person()
            session.add(person)
            session.flush()
            user = User(
                email=f"g{n}@example.kz",
                full_name=f"G {n}",
                region="KZ-75",
                sector="J",
                birth_year=1990,
                sex="female",
                locale="en",
                consent_version="2026-01",
                consented_at=datetime.now(UTC),
                person_key=person.key,
                password_hash=password_hash("x"),
            )
            session.add(user)
            session.flush()
            users.append(user)
        course, item = create_course(session, owner=users[0])
        enrol(session, users[1], course)
        submission = services.submit_notebook(
            session, user=users[1], item=item, data=solved(CORRECT), max_bytes=10**6
        )
        session.commit()
        yield {"factory": factory, "id": submission.id, "teacher": users[0]}
    engine.dispose()


def result(status: str = "graded", score: float = 3.0, executed: Any = "{}") -> GradeResult:
    cells = [
        CellResult("test-visible", 1.0, 1.0, False, True, "auto", "out"),
        CellResult(
            "test-hidden",
            score - 1.0,
            2.0,
            False,
            score == 3.0,
            "auto",
            "leaked?",
            hidden_tests=True,
        ),
    ]
    graded = GradeResult(
        status=status,
        reason="" if status == "graded" else "boom",
        score=score,
        max_score=3.0,
        auto_max_score=3.0,
        needs_manual_grade=False,
        cells=cells,
    )
    graded.executed = executed
    return graded


def run(world: dict[str, Any], fake: Any, **more: Any) -> grading.Outcome:
    recorded: list[Any] = more.pop("recorded", [])
    return grading.run(
        world["factory"],
        submission_id=world["id"],
        settings=GraderSettings(sandbox="off"),
        provider=lambda: None,
        grade=fake,
        stuck_seconds=60,
        max_deliveries=more.pop("max_deliveries", 3),
        record=lambda session, **kw: recorded.append(kw),
        infrastructure_errors=(NoSandbox,),
        **more,
    )


def read(world: dict[str, Any]) -> Submission:
    with world["factory"]() as session:
        return session.get(Submission, world["id"])


def test_graded_once_then_redelivery_changes_nothing(world):
    recorded: list[Any] = []
    assert run(world, lambda *a, **k: result(), recorded=recorded).action == "stored"
    first = read(world)
    assert first.status == SubmissionStatus.GRADED and first.passed and first.attempts == 1
    assert [c["output"] for c in first.result] == ["out", ""]  # hidden tests: no output
    assert run(world, lambda *a, **k: result(score=0.0), recorded=recorded).action == "skipped"
    again = read(world)
    assert (again.score, again.graded_at, again.attempts) == (first.score, first.graded_at, 1)
    assert len(recorded) == 1 and recorded[0]["passed"] is True


def test_the_names_behind_a_flag_are_stored_with_it(world):
    flagged = result(score=1.0)
    flagged.flags = ["patched-library"]
    names = [f"numpy.f{n}" for n in range(25)]
    flagged.flag_details = {"patched-library": names, "empty": []}
    assert run(world, lambda *a, **k: flagged).action == "stored"
    stored = read(world)
    assert stored.flags == ["patched-library"]
    assert stored.flag_details == {"patched-library": names[:20]}  # at most 20 per flag


def test_no_sandbox_leaves_the_submission_queued_for_the_sweep(world):
    def refuse(*_: Any, **__: Any) -> Any:
        raise NoSandbox("install bubblewrap")

    assert run(world, refuse, max_deliveries=9).action == "requeued"
    assert read(world).status == SubmissionStatus.QUEUED
    # a run in which no kernel could be started is the platform's fault too
    never_ran = result("failed", 0.0, executed=None)
    assert run(world, lambda *a, **k: never_ran, max_deliveries=9).action == "requeued"
    no_kernel = result("failed", 0.0)
    no_kernel.reason_code = "kernel-unavailable"
    assert run(world, lambda *a, **k: no_kernel, max_deliveries=9).action == "requeued"
    assert read(world).status == SubmissionStatus.QUEUED


def test_learner_caused_failure_is_stored_with_its_reason(world):
    timeout = result("failed", 0.0)
    timeout.reason_code = "run-timeout"
    assert run(world, lambda *a, **k: timeout).action == "stored"
    failed = read(world)
    assert failed.status == SubmissionStatus.FAILED and failed.reason_code == "run-timeout"
    assert not failed.passed


def test_a_crashing_grader_gives_up_after_the_delivery_limit(world):
    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError("bug")

    assert [run(world, crash).action for _ in range(3)] == ["requeued", "requeued", "gave_up"]
    assert read(world).status == SubmissionStatus.FAILED


def test_a_run_overtaken_by_a_newer_claim_stores_nothing(world):
    def slow_then_overtaken(*_: Any, **__: Any) -> GradeResult:
        with world["factory"]() as session:  # a second delivery claims it meanwhile
            assert (
                grading.claim(session, submission_id=world["id"], stuck_seconds=0, task_id="t2")
                is not None
            )
        return result()

    assert run(world, slow_then_overtaken).action == "skipped"
    assert read(world).status == SubmissionStatus.RUNNING and read(world).attempts == 2


def test_sweep_finds_stuck_rows_and_regrade_is_recorded(world):
    with world["factory"]() as session:
        assert services.stuck_submission_ids(session, stuck_seconds=60) == []
        later = utcnow() + timedelta(seconds=120)
        assert services.stuck_submission_ids(session, stuck_seconds=60, now=later) == [world["id"]]
        session.commit()
    run(world, lambda *a, **k: result(score=1.0))
    with world["factory"]() as session:
        submission = session.get(Submission, world["id"])
        services.request_regrade(session, submission=submission, by=world["teacher"])
        session.commit()
    assert run(world, lambda *a, **k: result(score=3.0)).action == "stored"
    with world["factory"]() as session:
        regrade = session.scalars(select(Regrade)).one()
        assert (float(regrade.old_score), float(regrade.new_score)) == (1.0, 3.0)
        assert session.get(Submission, world["id"]).regrade_count == 1


def test_real_engine_grades_the_notebook_without_a_sandbox(world):
    """The real engine (sandbox off, as in development) through the same run."""
    provider = LocalKernelProvider(GraderSettings(sandbox="off"))
    outcome = grading.run(
        world["factory"],
        submission_id=world["id"],
        settings=GraderSettings(sandbox="off"),
        provider=lambda: provider,
        grade=grade,
        stuck_seconds=60,
        max_deliveries=3,
    )
    assert outcome.action == "stored"
    stored = read(world)
    assert float(stored.score) == 3.0 and stored.passed
    visible, hidden = stored.result
    assert "visible-test-ran" in visible["output"] and hidden["output"] == ""


def regrade(world: dict[str, Any]) -> None:
    with world["factory"]() as session:
        services.request_regrade(
            session, submission=session.get(Submission, world["id"]), by=world["teacher"]
        )
        session.commit()


def test_a_regrade_is_not_one_more_attempt_of_the_learner(world):
    recorded: list[Any] = []
    assert run(world, lambda *a, **k: result(score=1.0), recorded=recorded).action == "stored"
    regrade(world)
    assert run(world, lambda *a, **k: result(score=3.0), recorded=recorded).action == "stored"
    assert [r["new_attempt"] for r in recorded] == [True, False]


def test_each_regrade_brings_its_own_delivery_allowance(world):
    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the grader broke")

    assert run(world, lambda *a, **k: result(score=1.0)).action == "stored"
    for _ in range(3):  # each regrade uses one delivery of its own allowance of three
        regrade(world)
        assert run(world, lambda *a, **k: result(score=2.0)).action == "stored"
    regrade(world)
    # Four deliveries so far, past the allowance of one grading: the regrade still gets at
    # least its own three tries (unused allowance of earlier regrades carries over) ...
    actions = [run(world, crash).action for _ in range(3)]
    assert actions == ["requeued"] * 3
    assert read(world).status == SubmissionStatus.QUEUED
    # ... and a grader that keeps breaking is still given up, within the total allowance.
    while (action := run(world, crash).action) == "requeued":
        assert read(world).attempts < 3 * 5
    assert action == "gave_up" and read(world).status == SubmissionStatus.FAILED
