"""seed-synthetic: the bulk path equals the one-at-a-time path; refusals; no log-in."""

from __future__ import annotations

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
