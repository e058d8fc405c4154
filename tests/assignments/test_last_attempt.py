"""Two uploads at the same moment cannot both take a learner's last attempt (PostgreSQL: the
enrolment row is locked while an upload is counted; SQLite lets one writer in at a time)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from lms.accounts.models import Person, User
from lms.assignments import services
from lms.assignments.models import Submission
from lms.courses.models import Item
from tests import conftest as base
from tests.assignments.conftest import CORRECT, create_course, enrol, solved


def test_two_uploads_at_once_take_one_last_attempt(tmp_path: Path, worker_id: str) -> None:
    with base.migrated_database(tmp_path, f"race_{worker_id}") as url:
        if not url.startswith("postgresql"):
            pytest.skip("row locks are PostgreSQL's; SQLite admits one writer at a time")
        engine = create_engine(url)
        try:
            with Session(engine) as setup:
                people = [
                    User(
                        email=f"{n}@example.kz",
                        full_name=n,
                        region="KZ-75",
                        sector="J",
                        birth_year=1990,
                        sex="female",
                        locale="en",
                        consent_version="t",
                        consented_at=func.now(),
                        person_key=_person(setup),
                        password_hash="x",
                    )
                    for n in ("teacher", "learner")
                ]
                setup.add_all(people)
                setup.flush()
                course, item = create_course(setup, owner=people[0], max_attempts=1)
                enrol(setup, people[1], course)
                setup.commit()
                learner_id, item_id = people[1].id, item.id

            def upload(session: Session) -> None:
                services.submit_notebook(
                    session,
                    user=session.get(User, learner_id),
                    item=session.get(Item, item_id),
                    data=solved(CORRECT),
                    max_bytes=10**6,
                )

            first, second = Session(engine), Session(engine)
            upload(first)  # counted and stored, not yet committed
            outcome: list[object] = []

            def other() -> None:
                try:
                    upload(second)
                    second.commit()
                    outcome.append("stored")
                except services.AttemptsExhausted:
                    second.rollback()
                    outcome.append("refused")

            thread = threading.Thread(target=other)
            thread.start()
            thread.join(timeout=1.0)
            assert thread.is_alive(), "the second upload did not wait for the first"
            first.commit()
            thread.join(timeout=10)
            assert outcome == ["refused"]
            with Session(engine) as check:
                assert check.scalar(select(func.count()).select_from(Submission)) == 1
            first.close()
            second.close()
        finally:
            engine.dispose()


def _person(session: Session) -> str:
    person = Person()
    session.add(person)
    session.flush()
    return person.key
