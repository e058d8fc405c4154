"""The lists of certificates (the holder's own, the admin's search) cost the same number of
SQL statements however many certificates they show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from lms.certificates import services
from lms.certificates.models import RevocationKind
from lms.stats.models import Correction, CorrectionKind


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent on ``engine`` inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _annul_behind_our_back(session, certificate) -> None:
    """An annulment statistics recorded without the certificate being revoked."""
    session.add(
        Correction(
            completion_id=certificate.completion_id,
            kind=CorrectionKind.ANNULLED,
            reason="shared account",
        )
    )
    session.flush()


def _count(engine, session, get: Callable[[], str]) -> tuple[int, str]:
    # Once before counting: a session's first request may record when it was last seen.
    get()
    # A real request starts with an empty session: nothing already in the identity map.
    session.expunge_all()
    with statements(engine) as seen:
        page = get()
    return len(seen), page


def test_my_certificates_take_a_fixed_number_of_queries(
    engine, session, client, login, make_user, complete
):
    user = make_user()
    first = [complete(user) for _ in range(2)]
    _annul_behind_our_back(session, first[0])
    login(user)
    few, page = _count(engine, session, lambda: client.get("/certificates").get_data(as_text=True))
    assert all(c.code in page for c in first)
    assert page.count("Revoked") == 1 and "completion annulled" in page
    more = [complete(user) for _ in range(5)]
    services.revoke(session, certificate=more[0], kind=RevocationKind.ISSUED_IN_ERROR)
    _annul_behind_our_back(session, more[1])
    many, page = _count(engine, session, lambda: client.get("/certificates").get_data(as_text=True))
    assert all(c.code in page for c in first + more)
    assert page.count("Revoked") == 3 and "issued in error" in page
    assert many == few, f"{few} statements for 2 certificates, {many} for 7"


def test_the_admins_search_takes_a_fixed_number_of_queries(
    engine, session, client, login, make_user, complete
):
    admin, holder = make_user(roles=["admin"]), make_user()
    email = holder.email
    first = [complete(holder) for _ in range(2)]
    login(admin)

    def search() -> str:
        return client.get("/admin/certificates", query_string={"q": email}).get_data(as_text=True)

    few, page = _count(engine, session, search)
    assert all(c.code in page for c in first)
    more = [complete(holder) for _ in range(5)]
    _annul_behind_our_back(session, more[0])
    many, page = _count(engine, session, search)
    assert all(c.code in page for c in first + more) and "completion annulled" in page
    assert many == few, f"{few} statements for 2 certificates, {many} for 7"
