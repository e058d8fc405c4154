"""seed-synthetic: the bulk path equals the one-at-a-time path; refusals; no log-in."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from lms.accounts.models import Person, User
from lms.stats import rollups, services, synthetic
from lms.stats.models import Completion
from tests.conftest import PASSWORD
from tests.stats.conftest import assert_counts_exact


def test_bulk_seeding_agrees_with_the_facts(session, make_user, make_course, complete):
    pub, spec = make_course("public"), make_course("specialist")
    earlier = make_user(roles=["admin"])
    complete(earlier, spec)
    made = synthetic.seed(session, learners=300, seed_value=3, batch=128)
    assert made == session.scalar(select(func.count()).select_from(Completion)) - 1
    assert rollups.first_difference(session) is None  # what `stats check` runs
    assert_counts_exact(session)
    tiers = set(session.scalars(select(Completion.tier)))
    assert tiers == {"public", "specialist"} and pub.id
    # Every synthetic account belongs to a real person row with a 32-hex-digit key.
    keys = list(session.scalars(select(User.person_key).where(User.is_synthetic)))
    assert len(keys) == 300
    assert all(isinstance(k, str) and len(k) == 32 and int(k, 16) >= 0 for k in keys)
    assert (
        session.scalar(select(func.count()).select_from(Person).where(Person.key.in_(keys))) == 300
    )
    # About one learner in eight is a specialist, as the national targets have it.
    specialists = session.scalar(
        select(func.count(func.distinct(Completion.person_key))).where(
            Completion.tier == "specialist", Completion.person_key.in_(keys)
        )
    )
    assert 10 <= specialists <= 70
    # Each fact's age band is the one the one-at-a-time path gives for its year.
    ages = session.execute(
        select(User.birth_year, Completion.day, Completion.age_band)
        .join(User, User.id == Completion.user_id)
        .where(User.is_synthetic)
    )
    assert all(band == services.age_band(born, day.year) for born, day, band in ages)
    # Real sign-ups and completions still work after the bulk path chose ids itself.
    complete(make_user(), pub)
    assert rollups.first_difference(session) is None


def test_refuses_a_database_with_real_learners_unless_forced(app, session, make_user, make_course):
    make_course("public"), make_course("specialist")
    make_user()  # a real learner
    runner = app.test_cli_runner()
    result = runner.invoke(args=["stats", "seed-synthetic", "--learners", "5", "--seed", "1"])
    assert result.exit_code == 1 and "not synthetic" in result.output
    forced = runner.invoke(
        args=["stats", "seed-synthetic", "--learners", "5", "--seed", "1", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert session.scalar(select(func.count()).select_from(User).where(User.is_synthetic)) == 5


def test_synthetic_accounts_cannot_log_in(client, session, make_course):
    make_course("public"), make_course("specialist")
    synthetic.seed(session, learners=2, seed_value=9)
    account = session.scalar(select(User).where(User.is_synthetic).limit(1))
    assert account.email.endswith("@synthetic.invalid") and account.password_hash == ""
    response = client.post("/login", data={"email": account.email, "password": PASSWORD})
    assert response.status_code not in (302, 303)
    response = client.post("/login", data={"email": account.email, "password": ""})
    assert response.status_code not in (302, 303)


def test_admin_annuls_a_completion(client, session, make_user, login, make_course, complete):
    learner = make_user()
    fact = complete(learner, make_course("public"))
    login(make_user(roles=["admin"]))
    page = client.get(f"/admin/completions?q={learner.email}")
    assert page.status_code == 200 and f"/admin/completions/{fact.id}/annul" in page.get_data(
        as_text=True
    )
    done = client.post(f"/admin/completions/{fact.id}/annul", data={"reason": "copied work"})
    assert done.status_code == 302
    after = client.get(f"/admin/completions?q={fact.id}").get_data(as_text=True)
    assert 'class="badge bad"' in after
    assert f"/admin/completions/{fact.id}/annul" not in after
    from lms.stats import figures

    assert figures.progress(session).trained == 0
    assert_counts_exact(session)


def test_annul_page_is_for_admins(client, make_user, login):
    login(make_user(roles=["analyst"]))
    assert client.get("/admin/completions").status_code == 403


# The steps of seed(), one by one.


def _frame(session, make_course, languages=("kk", "ru", "en")):
    public = make_course("public")
    public.languages = list(languages)
    make_course("specialist")
    session.flush()
    frame = synthetic.sampling_frame(synthetic.prepare(session, force=True, commit=None))
    frame.public_position = frame.course_ids.tolist().index(public.id)
    return frame


def test_prepare_refuses_real_learners_and_gives_courses_of_both_tiers(
    session, make_user, make_course
):
    import pytest

    make_user()
    with pytest.raises(synthetic.RealLearnersPresent):
        synthetic.prepare(session, force=False, commit=None)
    courses = synthetic.prepare(session, force=True, commit=None)
    assert {str(c.tier) for c in courses} == {"public", "specialist"}


def test_sampling_frame_weights_are_distributions(session, make_course):
    frame = _frame(session, make_course)
    for weights in (frame.region_p, frame.sector_p, frame.band_p):
        assert abs(weights.sum() - 1) < 1e-9 and (weights > 0).all()
    assert len(frame.region_codes) == 20 and "none" in frame.sectors.tolist()
    assert frame.speaks.shape == (len(frame.course_ids), 3)


def test_start_cursor_continues_after_existing_rows(session, make_user, make_course, complete):
    user = make_user()
    fact = complete(user, make_course("public"))
    cursor = synthetic.start_cursor(session, seed_value=4)
    assert cursor.user_id > user.id and cursor.fact_id == fact.id + 1 and cursor.number == 0


def test_drawn_learners_fall_in_the_age_bands_and_regions(session, make_course):
    import numpy as np

    frame = _frame(session, make_course)
    cursor = synthetic.start_cursor(session, seed_value=1)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    drawn = synthetic.draw_learners(
        np.random.default_rng(1), frame, size=500, first=0, cursor=cursor, now=now
    )
    ages = now.year - drawn.birth_year
    assert ages.min() >= 14 and ages.max() <= 80
    assert set(drawn.region.tolist()) <= set(frame.region_codes.tolist())
    assert len(set(drawn.keys)) == 500 and all(len(k) == 32 for k in drawn.keys)


def test_only_specialists_take_specialist_courses(session, make_course):
    import numpy as np

    frame = _frame(session, make_course)
    rng = np.random.default_rng(2)
    cursor = synthetic.start_cursor(session, seed_value=2)
    drawn = synthetic.draw_learners(
        rng, frame, size=800, first=0, cursor=cursor, now=datetime(2026, 6, 1, tzinfo=UTC)
    )
    who, course = synthetic.draw_courses(rng, frame, drawn)
    takes_spec = frame.course_is_spec[course]
    assert drawn.specialist[who[takes_spec]].all()
    assert 40 <= drawn.specialist.sum() <= 160  # about one in eight
    pairs = set(zip(who.tolist(), course.tolist(), strict=True))
    assert len(pairs) == len(who)  # a course at most once per learner


def test_milestones_are_each_learners_earliest_completions():
    import numpy as np

    who = np.array([0, 0, 1, 1, 1])
    is_spec = np.array([False, True, True, False, True])
    stored_at = ["2025-03-01", "2025-02-01", "2025-05-01", "2025-04-01", "2025-05-01"]
    fids = np.array([10, 11, 12, 13, 14])
    first, spec_learner, spec_pos, is_first, is_specialist = synthetic.milestones_of(
        who, is_spec, stored_at, fids
    )
    assert sorted(first.tolist()) == [1, 3]
    assert spec_learner.tolist() == [0, 1] and spec_pos.tolist() == [1, 2]  # tie: lowest id
    assert is_first.tolist() == [False, True, False, True, False]
    assert is_specialist.tolist() == [False, True, True, False, False]


def test_a_language_the_course_lacks_falls_back_to_its_first(session, make_course):
    import numpy as np

    frame = _frame(session, make_course, languages=["ru"])
    rng = np.random.default_rng(3)
    cursor = synthetic.start_cursor(session, seed_value=3)
    drawn = synthetic.draw_learners(
        rng, frame, size=300, first=0, cursor=cursor, now=datetime(2026, 6, 1, tzinfo=UTC)
    )
    who, course = synthetic.draw_courses(rng, frame, drawn)
    facts = synthetic.draw_facts(
        session, rng, frame, drawn, who=who, course=course, span=86400 * 300, fact_id=1
    )
    russian_only = frame.public_position
    langs = {synthetic.LANGUAGES[i] for i in facts.lang[facts.course == russian_only].tolist()}
    assert langs == {"ru"}
    assert set(facts.age_band.tolist()) <= set(services.AGE_BANDS)
