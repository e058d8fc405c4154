"""Completing a course issues one certificate with an unguessable code."""

from __future__ import annotations

import base64

from sqlalchemy import func, select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.stats import services as stats


def test_completion_issues_one_certificate_with_a_long_random_code(session, make_user, complete):
    user = make_user()
    certificate = complete(user)
    again = services.issue(session, completion=certificate.completion)
    assert again.id == certificate.id
    count = session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.completion_id == certificate.completion_id)
    )
    assert count == 1
    assert len(base64.b32decode(certificate.code)) * 8 >= 128
    other = complete(user)
    assert other.code != certificate.code
    assert certificate.revoked_at is None


def test_codes_are_case_insensitive_and_urls_are_accepted(session, make_user, complete):
    certificate = complete(make_user())
    assert services.find(session, code=certificate.code.lower()).id == certificate.id
    url = f"https://oqu.example.kz/verify/{certificate.code}"
    assert services.find(session, code=url).id == certificate.id
    assert services.find(session, code="1") is None
    assert services.find(session, code=str(certificate.id)) is None


def test_issue_missing_backfills_but_skips_deleted_accounts(app, session, make_user, make_course):
    user, gone = make_user(), make_user()
    fact = stats.record_completion(session, user=user, course=make_course(), language="ru")
    stats.record_completion(session, user=gone, course=make_course(), language="ru")
    annulled = stats.record_completion(
        session, user=make_user(), course=make_course(), language="ru"
    )
    stats.annul_completion(session, completion=annulled, reason="shared account", by_user=None)
    session.delete(gone)
    session.flush()
    session.expire_all()
    result = app.test_cli_runner().invoke(args=["certificates", "issue-missing"])
    assert result.exit_code == 0, result.output
    assert "issued 1 certificate" in result.output
    assert session.scalar(select(Certificate).where(Certificate.completion_id == fact.id))
    assert (
        session.scalar(select(Certificate).where(Certificate.completion_id == annulled.id)) is None
    )
