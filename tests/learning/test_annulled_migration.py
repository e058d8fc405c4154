"""Revision 0003 marks the enrolments whose completion an admin had annulled before it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms import migrate
from lms.accounts.models import Person, User
from lms.db import make_engine
from lms.learning import services as learning
from lms.learning.models import Enrollment
from lms.stats import services as stats
from tests import conftest as base
from tests.assignments.conftest import create_course


def _learner(session: Session, name: str) -> User:
    person = Person()
    session.add(person)
    session.flush()
    user = User(
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
    session.add(user)
    session.flush()
    return user


def test_upgrade_marks_enrolments_of_annulled_completions(tmp_path: Path, worker_id: str) -> None:
    with base.migrated_database(tmp_path, f"mig3_{worker_id}") as url:
        engine = make_engine(url)
        with Session(engine) as session:
            owner = _learner(session, "owner")
            course, item = create_course(session, owner=owner)
            enrolments = {}
            for name in ("honest", "cheat"):
                user = _learner(session, name)
                enrolment = learning.enrol(session, user=user, course=course, language="en")
                learning.record_item_result(
                    session, enrollment=enrolment, item=item, score=2, max_score=2, passed=True
                )
                enrolments[name] = enrolment.id
            fact = stats.completion_of(session, user_id=enrolment.user_id, course_id=course.id)
            assert fact is not None
            stats.annul_completion(session, completion=fact, reason="copied", by_user=None)
            session.commit()
        engine.dispose()

        migrate.downgrade(url, "0002")
        migrate.upgrade(url)

        engine = make_engine(url)
        with Session(engine) as session:
            marked = dict(
                session.execute(select(Enrollment.id, Enrollment.completion_annulled_at)).all()
            )
        engine.dispose()
        assert marked[enrolments["honest"]] is None
        assert marked[enrolments["cheat"]] is not None
