"""The profile page: edit, IIN set later (and merging two people), password change."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lms.accounts import services
from lms.accounts.models import Person, Sex
from lms.courses.models import Course, Tier
from lms.stats import services as stats
from lms.stats.models import Milestone
from tests.accounts.conftest import NEW_PASSWORD, field_errors, random_iin, wrong_check_digit
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}


def profile_form(user, **changes) -> dict[str, str]:
    data = {
        "full_name": user.full_name,
        "region": user.region,
        "sector": user.sector,
        "birth_year": str(user.birth_year),
        "sex": str(user.sex),
        "locale": user.locale,
        "iin": "",
    }
    data.update(changes)
    return data


def make_course(session, slug: str) -> Course:
    course = Course(
        slug=slug,
        tier=Tier.PUBLIC,
        languages=["kk"],
        sectors=[],
        title={"kk": slug},
        summary={"kk": slug},
        published=False,
    )
    session.add(course)
    session.flush()
    return course


def test_profile_shows_current_values_and_saves_changes(client, session, make_user, login) -> None:
    user = make_user(region="KZ-75", sector="J", birth_year=1990, locale="en")
    login(user)
    html = client.get("/profile").get_data(as_text=True)
    assert user.email in html and f'value="{user.full_name}"' in html
    response = client.post(
        "/profile",
        data=profile_form(
            user,
            full_name="Жанар Ахметова",
            region="KZ-62",
            sector="none",
            birth_year="1975",
            sex="not_stated",
            locale="ru",
        ),
    )
    assert response.status_code == 302
    session.refresh(user)
    assert (user.full_name, user.region, user.sector, user.birth_year, user.sex, user.locale) == (
        "Жанар Ахметова",
        "KZ-62",
        "none",
        1975,
        Sex.NOT_STATED,
        "ru",
    )
    assert "Ваш профиль сохранён." in client.get("/profile").get_data(as_text=True)


def test_profile_refuses_bad_values_and_changes_nothing(client, session, make_user, login) -> None:
    user = make_user(region="KZ-75", locale="en")
    login(user)
    for changes, message in (
        ({"region": "KZ-00"}, "choose a region"),
        ({"birth_year": str(date.today().year - 5)}, "at least 14"),
        ({"iin": wrong_check_digit(random_iin())}, "check digit"),
    ):
        response = client.post("/profile", data=profile_form(user, **changes), headers=EN)
        assert response.status_code == 400
        assert any(message in e for e in field_errors(response.get_data(as_text=True)))
    session.refresh(user)
    assert user.region == "KZ-75" and user.person.iin_hash is None


def test_iin_added_later_links_accounts_and_merges_the_people(
    client, session, app, make_user, login
) -> None:
    iin = random_iin()
    key = services.iin_key(app.config)
    first = make_user(iin_hash=services.iin_digest(iin, key=key))
    second = make_user(locale="en")
    old_key = second.person_key
    # The second account already completed a course on its own: a milestone exists.
    course = make_course(session, f"merge-{old_key[:8]}")
    fact = stats.record_completion(
        session, user=second, course=course, language="kk", at=datetime(2026, 3, 1, 8, tzinfo=UTC)
    )
    assert session.get(Milestone, old_key) is not None
    login(second)
    response = client.post("/profile", data=profile_form(second, iin=iin))
    assert response.status_code == 302
    session.expire_all()
    assert second.person_key == first.person_key
    assert session.get(Person, old_key) is None, "the dropped person row is gone"
    # merge_persons ran: the milestone moved to the person that is kept.
    assert session.get(Milestone, old_key) is None
    kept = session.get(Milestone, first.person_key)
    assert kept is not None and kept.first_completion_id == fact.id
    # The page does not say the IIN was already registered: it must not be an oracle.
    page = client.get("/profile", headers=EN).get_data(as_text=True)
    assert "Your profile is saved." in page and "another account" not in page


def test_an_iin_on_file_cannot_be_changed_or_used_to_rewrite_a_person(
    client, session, app, make_user, login
) -> None:
    key = services.iin_key(app.config)
    victim_iin, other_iin = random_iin(), random_iin()
    victim = make_user(iin_hash=services.iin_digest(victim_iin, key=key))
    victim_hash = victim.person.iin_hash
    intruder = make_user(locale="en", full_name="Intruder")
    login(intruder)
    # The intruder types the victim's IIN: the accounts count as one person (as they would
    # for one person's two accounts), and the page looks the same as for a new IIN.
    assert client.post("/profile", data=profile_form(intruder, iin=victim_iin)).status_code == 302
    # Now typing another IIN would have rewritten the victim's person: refused, unchanged.
    response = client.post(
        "/profile", data=profile_form(intruder, iin=other_iin, full_name="Renamed"), headers=EN
    )
    assert response.status_code == 400
    assert "already has an IIN; it cannot be changed" in " ".join(
        field_errors(response.get_data(as_text=True))
    )
    session.expire_all()
    assert victim.person.iin_hash == victim_hash
    assert intruder.full_name == "Intruder", "nothing of the refused form was saved"
    # The same IIN again is accepted (nothing to change), and the page no longer offers it.
    assert client.post("/profile", data=profile_form(intruder, iin=victim_iin)).status_code == 302
    page = client.get("/profile", headers=EN).get_data(as_text=True)
    assert 'name="iin"' not in page and "It cannot be changed" in page


def test_iin_added_later_without_a_match_is_just_stored(
    client, session, app, make_user, login
) -> None:
    user = make_user()
    login(user)
    iin = random_iin()
    assert client.post("/profile", data=profile_form(user, iin=iin)).status_code == 302
    session.refresh(user.person)
    assert user.person.iin_hash == services.iin_digest(iin, key=services.iin_key(app.config))
    # An empty IIN field keeps the one on file.
    assert client.post("/profile", data=profile_form(user)).status_code == 302
    session.refresh(user.person)
    assert user.person.iin_hash is not None


def test_password_change_needs_the_current_password(client, session, make_user, login) -> None:
    user = make_user(locale="en")
    login(user)
    wrong = client.post(
        "/profile/password",
        data={
            "pw-current_password": "not my password",
            "pw-new_password": NEW_PASSWORD,
            "pw-confirm": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400
    assert "The current password is not right." in field_errors(wrong.get_data(as_text=True))
    short = client.post(
        "/profile/password",
        data={"pw-current_password": PASSWORD, "pw-new_password": "short", "pw-confirm": "short"},
    )
    assert short.status_code == 400
    ok = client.post(
        "/profile/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": NEW_PASSWORD,
            "pw-confirm": NEW_PASSWORD,
        },
    )
    assert ok.status_code == 302
    client.post("/logout")
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    )
    assert (
        client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_new_password_ends_other_sessions_but_not_this_one(app, session, make_user) -> None:
    user = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    for client in (here, elsewhere):
        assert (
            client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
    assert (
        here.post(
            "/profile/password",
            data={
                "pw-current_password": PASSWORD,
                "pw-new_password": NEW_PASSWORD,
                "pw-confirm": NEW_PASSWORD,
            },
        ).status_code
        == 302
    )
    assert here.get("/profile").status_code == 200
    assert elsewhere.get("/profile").status_code == 302
