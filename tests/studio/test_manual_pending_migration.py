"""Revision 0002 fills ``submission.manual_pending`` for the rows already there, and its
downgrade takes the column away again without touching the grades."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, inspect, select
from sqlalchemy.orm import Session

from lms import migrate
from lms.accounts.models import Person, User
from lms.assignments.models import ManualGrade, Submission, SubmissionStatus
from lms.db import make_engine
from tests import conftest as base
from tests.assignments.conftest import create_course, enrol

MIGRATION_BATCH = 1000  # BATCH in migrations/versions/0002: the rows below span two batches


def manual(*grade_ids: str) -> list[dict[str, object]]:
    return [{"grade_id": "tests", "score": 2, "max_score": 2, "needs_manual_grade": False}] + [
        {"grade_id": g, "score": None, "max_score": 1, "needs_manual_grade": True}
        for g in grade_ids
    ]


# (needs_manual_grade, status, cells, grade ids already given, the count expected)
KINDS = [
    (True, SubmissionStatus.GRADED, manual("essay", "proof"), [], 2),
    (True, SubmissionStatus.GRADED, manual("essay", "proof"), ["essay"], 1),
    (True, SubmissionStatus.GRADED, manual("essay", "proof"), ["essay", "proof"], 0),
    # A grade for a cell the (regraded) result no longer has leaves the essay waiting.
    (True, SubmissionStatus.GRADED, manual("essay"), ["gone"], 1),
    (False, SubmissionStatus.GRADED, manual(), [], 0),
    # Queued again for a regrade: the count still matches its cells and grades.
    (True, SubmissionStatus.QUEUED, manual("essay", "proof"), ["proof"], 1),
]


def _populate(url: str) -> dict[int, int]:
    """Submissions of every kind, their count left wrong; what each count should be."""
    engine = make_engine(url)
    with Session(engine) as session:
        people = []
        for name in ("teacher", "learner"):
            person = Person()
            session.add(person)
            session.flush()
            people.append(
                User(
                    email=f"{name}@example.kz",
                    full_name=name,
                    region="KZ-75",
                    sector="J",
                    birth_year=1990,
                    sex="female",
                    locale="en",
                    consent_version="t",
                    consented_at=datetime.now(UTC),
                    person_key=person.key,
                    password_hash="x",
                )
            )
        session.add_all(people)
        session.flush()
        course, item = create_course(session, owner=people[0])
        enrollment = enrol(session, people[1], course)
        count = MIGRATION_BATCH + 2 * len(KINDS)
        kinds = [KINDS[n % len(KINDS)] for n in range(count)]
        returning = insert(Submission).returning(Submission.id, sort_by_parameter_order=True)
        ids = session.scalars(
            returning,
            [
                {
                    "enrollment_id": enrollment.id,
                    "item_id": item.id,
                    "user_id": people[1].id,
                    "notebook": "{}",
                    "status": status,
                    "needs_manual_grade": needs,
                    "result": cells,
                    "manual_pending": 99,
                }
                for needs, status, cells, _, _ in kinds
            ],
        ).all()
        session.execute(
            insert(ManualGrade),
            [
                {"submission_id": sid, "grade_id": g, "score": 1}
                for sid, (_, _, _, given, _) in zip(ids, kinds, strict=True)
                for g in given
            ],
        )
        session.commit()
    engine.dispose()
    return {sid: kind[4] for sid, kind in zip(ids, kinds, strict=True)}


def test_upgrade_counts_the_cells_left_and_downgrade_keeps_the_grades(
    tmp_path: Path, worker_id: str
) -> None:
    with base.migrated_database(tmp_path, f"mig_{worker_id}") as url:
        expected = _populate(url)
        migrate.downgrade(url, "0001")
        engine = make_engine(url)
        with engine.connect() as conn:
            assert "manual_pending" not in {
                c["name"] for c in inspect(conn).get_columns("submission")
            }
            grades = conn.scalar(select(func.count()).select_from(ManualGrade.__table__))
        engine.dispose()
        assert grades == sum(len(KINDS[n % len(KINDS)][3]) for n in range(len(expected)))
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.connect() as conn:
            counts = dict(conn.execute(select(Submission.id, Submission.manual_pending)).all())
            indexes = {i["name"] for i in inspect(conn).get_indexes("submission")}
        engine.dispose()
        assert counts == expected
        assert "ix_submission_manual_queue" in indexes
