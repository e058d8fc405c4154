"""Revision 0007 fills the stated facts of existing certificates and turns their free-text
revocation reasons into kinds (the admin's text kept as the internal note)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lms import migrate
from lms.accounts.models import Person, User
from lms.certificates import services
from lms.certificates.models import Certificate, RevocationKind
from lms.courses.models import Course, Tier
from lms.db import make_engine
from lms.stats import services as stats
from tests import conftest as base

AT = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


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


def test_upgrade_fills_facts_and_kinds_and_allows_reissue(tmp_path: Path, worker_id: str) -> None:
    with base.migrated_database(tmp_path, f"mig7_{worker_id}") as url:
        engine = make_engine(url)
        codes = {}
        with Session(engine) as session:
            course = Course(
                slug="migrated",
                tier=Tier.SPECIALIST,
                languages=["kk", "ru"],
                sectors=[],
                title={"kk": "Қазақша атауы", "ru": "Русское название"},
                summary={"kk": "."},
                published=True,
            )
            session.add(course)
            session.flush()
            for name, language in (
                ("erred", "kk"),
                ("annulled", "ru"),
                ("deleted", "kk"),
                ("renamed", "ru"),
            ):
                user = _learner(session, name)
                fact = stats.record_completion(
                    session, user=user, course=course, language=language, at=AT
                )
                codes[name] = services.issue(session, completion=fact).code
            erred = services.find(session, code=codes["erred"])
            services.revoke(
                session, certificate=erred, kind=RevocationKind.ISSUED_IN_ERROR, note="typo"
            )
            session.commit()
        engine.dispose()

        migrate.downgrade(url, "0006")
        engine = make_engine(url)
        with engine.begin() as db:
            reasons = dict(db.execute(text("SELECT code, revoke_reason FROM certificate")).all())
            assert reasons[codes["erred"]] == "typo"
            # What 0006 could hold: an annulment's prefixed text, a deleted account, a rename.
            db.execute(
                text(
                    "UPDATE certificate SET revoke_reason = 'completion annulled: shared login', "
                    "revoked_at = '2026-04-01 10:00:00.000000' WHERE code = :code"
                ),
                {"code": codes["annulled"]},
            )
            db.execute(
                text(
                    "UPDATE completion SET user_id = NULL WHERE id = "
                    "(SELECT completion_id FROM certificate WHERE code = :code)"
                ),
                {"code": codes["deleted"]},
            )
            db.execute(
                text("UPDATE \"user\" SET full_name = 'Renamed Later' WHERE email LIKE 'renamed@%'")
            )
        engine.dispose()

        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            found = {c.code: c for c in session.scalars(select(Certificate)).unique()}
            erred, annulled = found[codes["erred"]], found[codes["annulled"]]
            deleted, renamed = found[codes["deleted"]], found[codes["renamed"]]
            assert (erred.revoke_kind, erred.revoke_note) == ("issued_in_error", "typo")
            assert (annulled.revoke_kind, annulled.revoke_note) == (
                "completion_annulled",
                "shared login",
            )
            assert deleted.revoke_kind == "account_deleted" and deleted.revoked_at is not None
            assert deleted.holder_name is None
            assert renamed.revoked_at is None and renamed.holder_name == "Renamed Later"
            assert renamed.course_title == "Русское название" and deleted.course_title == (
                "Қазақша атауы"
            )
            assert renamed.tier == "specialist" and renamed.language == "ru"
            assert renamed.completed_on == AT.date()
            # The migrated schema takes a second certificate of one completion.
            user = session.scalar(select(User).where(User.email.like("renamed@%")))
            user.full_name = "Renamed Again"
            new = services.reissue(session, certificate=renamed, user=user)
            session.commit()
            assert new.completion_id == renamed.completion_id
            assert renamed.replaced_by_id == new.id
            assert renamed.revoke_kind == RevocationKind.REPLACED
        engine.dispose()
