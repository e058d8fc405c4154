"""Failed password checks are counted in the database, so every process agrees (issue 11).

The servers here are real: two gunicorn processes over one SQLite file (or PostgreSQL
database), each with its own in-memory rate-limit counters, as the default one-machine
install runs. Before the fix, guesses spread over two processes were never refused.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from lms.accounts.models import LoginSession, Person, User
from lms.db import make_engine
from tests.accounts.conftest import NEW_PASSWORD
from tests.accounts.live import Browser, servers
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.slow]


def _account(database_url: str, email: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        person = Person()
        session.add(person)
        session.flush()
        session.add(
            User(
                email=email,
                password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"),
                full_name="Сәуле Әбенова",
                region="KZ-75",
                sector="P",
                birth_year=1988,
                locale="en",
                consent_version="2026-01",
                consented_at=datetime.now(UTC),
                person_key=person.key,
            )
        )
    engine.dispose()


def _mails(log: str, subject: str) -> list[str]:
    return [part for part in log.split("MAIL_HOST is not set") if subject in part]


def test_the_11th_wrong_password_across_two_processes_is_refused_and_reset_still_works(
    tmp_path, fresh_database
) -> None:
    email = "saule@example.kz"
    _account(fresh_database, email)
    with servers(fresh_database, tmp_path, count=2) as (bases, log):
        browsers = [Browser(), Browser()]
        answers = []
        for attempt in range(10):  # alternating: five guesses on each process
            n = attempt % 2
            status, _h, _t = browsers[n].post_form(
                f"{bases[n]}/login", {"email": email, "password": f"guess number {attempt}"}
            )
            answers.append(status)
        assert answers == [400] * 10
        # The 11th, on either process, even with the right password: 429 and Retry-After.
        for n in (0, 1):
            status, headers, html = browsers[n].post_form(
                f"{bases[n]}/login", {"email": email, "password": PASSWORD}
            )
            assert status == 429, html[:500]
            assert 240 <= int(headers["Retry-After"]) <= 300
            assert "Too many wrong passwords for this account" in html
        # The owner is told by mail, once.
        burst = _mails(log.read_text(), "Wrong passwords were tried on your Oqu account")
        assert len(burst) == 1 and f"To: {email}" in burst[0]

        # The reset link works while the block lasts, and the new password then opens.
        owner = Browser()
        status, _h, _t = owner.post_form(f"{bases[1]}/password/forgot", {"email": email})
        assert status == 302
        for _ in range(50):
            resets = _mails(log.read_text(), "Reset your Oqu password")
            if resets:
                break
            time.sleep(0.1)
        link = re.findall(r"http://\S+/password/reset/\S+", resets[-1])[-1]
        path = link.split("/password/reset/", 1)[1]
        status, _h, html = owner.post_form(
            f"{bases[0]}/password/reset/{path}",
            {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert status == 302, html[:500]
        status, _h, _t = owner.post_form(
            f"{bases[1]}/login", {"email": email, "password": NEW_PASSWORD}
        )
        assert status == 302
        status, _h, _t = owner.request(f"{bases[0]}/profile")
        assert status == 200
        # "Last seen" is written by the server after answering, in its own transaction.
        engine = make_engine(fresh_database)
        with engine.begin() as conn:
            conn.execute(
                update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=9))
            )
        assert owner.request(f"{bases[1]}/profile")[0] == 200
        deadline = time.monotonic() + 10
        while True:
            with engine.connect() as conn:
                seen = conn.execute(select(func.max(LoginSession.last_seen_at))).scalar_one()
            if seen.replace(tzinfo=UTC) > datetime.now(UTC) - timedelta(minutes=1):
                break
            assert time.monotonic() < deadline, "last seen was not written"
            time.sleep(0.1)
        engine.dispose()


def test_an_unknown_address_is_blocked_the_same_way(tmp_path, fresh_database) -> None:
    """A block never tells a registered address from an unknown one."""
    # The per-address limit out of the way: this 429 is the account guard's.
    with servers(fresh_database, tmp_path, count=1, RATELIMIT_LOGIN="100 per minute") as (
        bases,
        _log,
    ):
        browser = Browser()
        answers = [
            browser.post_form(
                f"{bases[0]}/login", {"email": "nobody@example.kz", "password": f"guess {i}"}
            )
            for i in range(11)
        ]
        assert [status for status, _h, _t in answers] == [400] * 10 + [429]
        assert "Too many wrong passwords for this account" in answers[-1][2]
