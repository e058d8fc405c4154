"""Deleting an account erases the person; completion facts stay with only the person key."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select

from lms.accounts import services
from lms.accounts.models import Person, User, UserRole
from lms.certificates import services as certificates
from lms.learning.models import Enrollment
from lms.stats import services as stats
from lms.stats.models import Completion
from tests.accounts.conftest import field_errors
from tests.accounts.test_profile import make_course
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}


def test_delete_erases_user_and_person_and_keeps_the_completion(
    client, session, make_user, login
) -> None:
    user = make_user(roles=["instructor"], iin_hash=secrets.token_hex(32))
    user_id, person_key = user.id, user.person_key
    course = make_course(session, f"delete-{person_key[:8]}")
    session.add(Enrollment(user_id=user_id, course_id=course.id, language="kk"))
    fact = stats.record_completion(
        session, user=user, course=course, language="kk", at=datetime(2026, 2, 2, 9, tzinfo=UTC)
    )
    certificate = certificates.issue(session, completion=fact)
    login(user)
    response = client.post("/profile/delete", data={"del-password": PASSWORD}, headers=EN)
    assert response.status_code == 302
    session.expire_all()
    assert certificate.revoked_at is not None, "the holder's certificates verify as revoked"
    assert session.get(User, user_id) is None
    assert session.get(Person, person_key) is None, "the IIN hash goes with the person"
    assert session.scalars(select(UserRole).where(UserRole.user_id == user_id)).all() == []
    assert session.scalars(select(Enrollment).where(Enrollment.user_id == user_id)).all() == []
    kept = session.get(Completion, fact.id)
    assert kept is not None
    assert kept.user_id is None and kept.person_key == person_key
    assert (kept.region, kept.sector, kept.age_band) == ("KZ-75", "J", "35-44")
    # Logged out, and the account cannot come back.
    assert client.get("/profile").status_code == 302
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    )


def test_delete_keeps_the_person_while_another_account_uses_it(
    client, session, make_user, login
) -> None:
    first = make_user()
    second = make_user()
    shared = secrets.token_hex(32)
    services.set_iin(session, user=second, iin_hash=shared)
    services.set_iin(session, user=first, iin_hash=shared)
    assert first.person_key == second.person_key
    login(first)
    assert client.post("/profile/delete", data={"del-password": PASSWORD}).status_code == 302
    session.expire_all()
    assert session.get(Person, second.person_key) is not None
    assert session.get(User, second.id) is not None


def test_wrong_password_deletes_nothing(client, session, make_user, login) -> None:
    user = make_user()
    login(user)
    response = client.post("/profile/delete", data={"del-password": "not it at all"}, headers=EN)
    assert response.status_code == 400
    assert "Nothing was deleted." in " ".join(field_errors(response.get_data(as_text=True)))
    session.expire_all()
    assert session.get(User, user.id) is not None
    assert client.get("/profile").status_code == 200
