"""People, not accounts: milestones, counters in the completion's transaction, corrections."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from lms.stats import figures, services
from lms.stats.models import Correction, CorrectionKind, CubeCount, DailyCount
from tests.stats.conftest import assert_counts_exact, merge_accounts


def totals(session):
    p = figures.progress(session)
    return p.trained, p.specialists


def test_counters_are_written_in_the_completion_transaction(
    session, make_user, make_course, complete
):
    user, course = make_user(), make_course("specialist")
    savepoint = session.begin_nested()
    complete(user, course)
    assert totals(session) == (1, 1)
    savepoint.rollback()  # the completion's transaction fails: nothing of it stays
    assert totals(session) == (0, 0)
    assert session.scalar(select(func.count()).select_from(CubeCount)) == 0


def test_a_second_course_does_not_count_again(session, make_user, make_course, complete):
    user = make_user()
    complete(user, make_course("public"), at=datetime(2026, 1, 5, tzinfo=UTC))
    complete(user, make_course("public"), at=datetime(2026, 2, 5, tzinfo=UTC))
    assert totals(session) == (1, 0)
    row = session.scalar(select(DailyCount).where(DailyCount.day == datetime(2026, 2, 5).date()))
    assert (row.completions, row.new_trained) == (1, 0)
    assert_counts_exact(session)


def test_specialist_milestone_from_first_specialist_completion(
    session, make_user, make_course, complete
):
    user = make_user()
    complete(user, make_course("public"), at=datetime(2026, 1, 5, tzinfo=UTC))
    assert totals(session) == (1, 0)
    complete(user, make_course("specialist"), at=datetime(2026, 3, 5, tzinfo=UTC))
    complete(user, make_course("specialist"), at=datetime(2026, 4, 5, tzinfo=UTC))
    assert totals(session) == (1, 1)
    march = session.scalar(select(DailyCount).where(DailyCount.day == datetime(2026, 3, 5).date()))
    assert march.new_specialists == 1 and march.new_trained == 0
    assert_counts_exact(session)


def test_two_accounts_with_one_iin_count_once(session, make_user, make_course, complete):
    early, late = make_user(region="KZ-75"), make_user(region="KZ-11")
    complete(late, make_course("specialist"), at=datetime(2026, 5, 1, tzinfo=UTC))
    complete(early, make_course("public"), at=datetime(2026, 2, 1, tzinfo=UTC))
    complete(early, make_course("specialist"), at=datetime(2026, 3, 1, tzinfo=UTC))
    assert totals(session) == (2, 2)
    merge_accounts(session, keep=late, drop=early)
    assert totals(session) == (1, 1)
    corrections = session.scalars(
        select(Correction).where(Correction.kind == CorrectionKind.MERGED)
    ).all()
    assert len(corrections) == 2 and all(c.reason for c in corrections)
    # The later milestones (late's May completion) were withdrawn from KZ-11's cells.
    kz11 = session.scalars(
        select(CubeCount).where(CubeCount.cube == "region", CubeCount.region == "KZ-11")
    ).all()
    assert [(c.completions, c.new_trained, c.new_specialists) for c in kz11] == [(1, 0, 0)]
    assert_counts_exact(session)
    # A later course by either account still does not count again.
    complete(late, make_course("public"), at=datetime(2026, 6, 1, tzinfo=UTC))
    assert totals(session) == (1, 1)
    assert_counts_exact(session)


def test_annulment_moves_the_milestone_to_the_next_completion(
    session, make_user, make_course, complete
):
    admin, user = make_user(roles=["admin"]), make_user()
    first = complete(user, make_course("specialist"), at=datetime(2026, 1, 5, tzinfo=UTC))
    complete(user, make_course("public"), at=datetime(2026, 2, 5, tzinfo=UTC))
    services.annul_completion(session, completion=first, reason="fraud", by_user=admin)
    assert totals(session) == (1, 0)
    feb = session.scalar(select(DailyCount).where(DailyCount.day == datetime(2026, 2, 5).date()))
    assert (feb.completions, feb.new_trained) == (1, 1)
    jan = session.scalar(select(DailyCount).where(DailyCount.day == datetime(2026, 1, 5).date()))
    assert (jan.completions, jan.new_trained, jan.new_specialists) == (0, 0, 0)
    assert_counts_exact(session)
    with pytest.raises(services.AlreadyAnnulled):
        services.annul_completion(session, completion=first, reason="again", by_user=admin)


def test_annulling_the_only_completion_leaves_zero_not_negative(
    session, make_user, make_course, complete
):
    user = make_user()
    only = complete(user, make_course("public"))
    services.annul_completion(session, completion=only, reason="fraud", by_user=None)
    assert totals(session) == (0, 0)
    assert_counts_exact(session)


def test_deleting_an_account_keeps_the_totals(session, make_user, make_course, complete):
    user = make_user()
    complete(user, make_course("public"))
    person = user.person
    session.delete(user)
    session.flush()
    session.delete(person)
    session.flush()
    assert totals(session) == (1, 0)
    assert_counts_exact(session)


def test_back_dated_completion_moves_the_milestone(session, make_user, make_course, complete):
    user = make_user()
    complete(user, make_course("public"), at=datetime(2026, 5, 5, tzinfo=UTC))
    complete(user, make_course("public"), at=datetime(2026, 1, 5, tzinfo=UTC))
    assert totals(session) == (1, 0)
    assert_counts_exact(session)


def test_days_are_almaty_days():
    # 20:00 UTC on 31 March is already 1 April in Almaty (UTC+5).
    assert services.almaty_day(datetime(2026, 3, 31, 20, 0, tzinfo=UTC)).isoformat() == "2026-04-01"
    assert services.age_band(2008, 2026) == "18-24" and services.age_band(2012, 2026) == "14-17"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 401])
def test_annulment_needs_a_short_reason_and_changes_nothing_without(
    client, session, make_user, login, make_course, complete, reason
):
    from lms.stats import figures

    fact = complete(make_user(), make_course("public"))
    login(make_user(roles=["admin"]))
    done = client.post(f"/admin/completions/{fact.id}/annul", data={"reason": reason})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Give a reason for the annulment." in page
    assert figures.progress(session).trained == 1
    assert not services.is_annulled(session, completion=fact)
