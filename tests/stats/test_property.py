"""Random sequences of registrations, completions, profile changes, merges and annulments:
after every step the roll-ups equal a direct count from the facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.stats import rollups, services
from tests.stats.conftest import assert_counts_exact, merge_accounts

REGIONS = ("KZ-75", "KZ-11", "KZ-79")
step = st.one_of(
    st.tuples(
        st.just("register"),
        st.sampled_from(REGIONS),
        st.sampled_from(("female", "male")),
        st.integers(1950, 2010),
    ),
    st.tuples(
        st.just("complete"),
        st.integers(0, 9),
        st.integers(0, 3),
        st.sampled_from(("kk", "ru", "en")),
        st.integers(0, 500),
    ),
    st.tuples(st.just("profile"), st.integers(0, 9), st.sampled_from(REGIONS)),
    st.tuples(st.just("merge"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("annul"), st.integers(0, 30)),
)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_rollups_equal_a_direct_count_after_every_step(session, make_user, make_course, steps):
    savepoint = session.begin_nested()
    try:
        courses = [
            make_course("public"),
            make_course("public"),
            make_course("specialist"),
            make_course("specialist"),
        ]
        users = [make_user()]
        completions = []
        start = datetime(2025, 1, 1, tzinfo=UTC)
        for action, *args in steps:
            if action == "register":
                region, sex, year = args
                users.append(make_user(region=region, sex=sex, birth_year=year))
            elif action == "complete":
                user, course = users[args[0] % len(users)], courses[args[1]]
                done = {(c.user_id, c.course_id) for c in completions}
                if (user.id, course.id) in done:
                    continue  # a course is completed at most once per account
                completions.append(
                    services.record_completion(
                        session,
                        user=user,
                        course=course,
                        language=args[2],
                        at=start + timedelta(days=args[3], hours=args[3] % 7),
                    )
                )
            elif action == "profile":
                users[args[0] % len(users)].region = args[1]
            elif action == "merge":
                keep, drop = users[args[0] % len(users)], users[args[1] % len(users)]
                if keep.person_key != drop.person_key:
                    merge_accounts(session, keep=keep, drop=drop)
            elif action == "annul" and completions:
                fact = completions[args[0] % len(completions)]
                if not services.is_annulled(session, completion=fact):
                    services.annul_completion(session, completion=fact, reason="test", by_user=None)
            assert_counts_exact(session)
        assert rollups.first_difference(session) is None
    finally:
        savepoint.rollback()
