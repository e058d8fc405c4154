"""``stats rebuild`` and ``stats check``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.stats import rollups, services
from lms.stats.models import CubeCount, Milestone
from tests.stats.conftest import assert_counts_exact, merge_accounts


def _history(session, make_user, make_course, complete):
    a, b, c = make_user(), make_user(region="KZ-11"), make_user(sex="male")
    pub, spec = make_course("public"), make_course("specialist")
    complete(a, pub, at=datetime(2026, 1, 3, tzinfo=UTC))
    complete(b, spec, at=datetime(2026, 2, 3, tzinfo=UTC))
    done = complete(c, spec, at=datetime(2026, 3, 3, tzinfo=UTC))
    complete(c, pub, at=datetime(2026, 4, 3, tzinfo=UTC))
    merge_accounts(session, keep=a, drop=b)
    services.annul_completion(session, completion=done, reason="fraud", by_user=None)


def test_check_names_the_first_difference_after_a_counter_is_corrupted(
    session, make_user, make_course, complete
):
    _history(session, make_user, make_course, complete)
    assert rollups.first_difference(session) is None
    cell = session.scalar(select(CubeCount).where(CubeCount.cube == "sector").limit(1))
    cell.completions += 5
    session.flush()
    difference = rollups.first_difference(session)
    assert difference and "stat_cube" in difference and "cube=sector" in difference


def test_rebuild_restores_the_counters(session, make_user, make_course, complete):
    _history(session, make_user, make_course, complete)
    for cell in session.scalars(select(CubeCount)):
        cell.new_trained = 0
    session.flush()
    assert rollups.first_difference(session) is not None
    rollups.rebuild(session)
    assert rollups.first_difference(session) is None
    assert_counts_exact(session)


def test_check_and_rebuild_commands(app, session, make_user, make_course, complete):
    _history(session, make_user, make_course, complete)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["stats", "check"]).exit_code == 0
    session.scalar(select(CubeCount).limit(1)).completions += 1
    session.flush()
    result = runner.invoke(args=["stats", "check"])
    assert result.exit_code == 1 and "stat_cube" in result.output
    assert runner.invoke(args=["stats", "rebuild"]).exit_code == 0
    assert runner.invoke(args=["stats", "check"]).exit_code == 0


@pytest.mark.parametrize(
    ("field", "shift"),
    [
        ("first_day", timedelta(days=1)),
        ("first_at", timedelta(hours=1)),
        ("specialist_day", timedelta(days=-3)),
        ("specialist_at", timedelta(minutes=5)),
    ],
)
def test_check_names_a_milestone_whose_date_differs(
    session, make_user, make_course, complete, field, shift
):
    _history(session, make_user, make_course, complete)
    assert rollups.first_difference(session) is None
    milestone = session.scalar(
        select(Milestone)
        .where(Milestone.specialist_day.is_not(None))
        .order_by(Milestone.person_key)
        .limit(1)
    )
    setattr(milestone, field, getattr(milestone, field) + shift)
    session.flush()
    difference = rollups.first_difference(session)
    assert difference and field in difference and milestone.person_key in difference
