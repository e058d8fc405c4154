"""Registration: the happy path and every bad input named in issue 2."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.models import Person, Sex, User
from lms.reference import region_name
from tests.accounts.conftest import (
    field_errors,
    random_iin,
    registration,
    valid_iin,
    wrong_check_digit,
)


def count_users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_register_creates_account_logs_in_and_records_consent(client, session, app) -> None:
    data = registration()
    response = client.post("/register", data=data)
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == data["email"].lower()))
    assert user is not None, "e-mail is stored lower-case"
    assert user.full_name == "Айгерім Нұрланқызы"
    assert (user.region, user.sector, user.sex, user.locale) == ("KZ-75", "J", Sex.FEMALE, "kk")
    assert user.birth_year == date.today().year - 30
    assert user.consent_version == app.config["CONSENT_VERSION"]
    assert user.consented_at is not None
    assert user.password_hash.startswith("pbkdf2:sha256:1$"), "the suite's cheap hash"
    assert "steppe" not in user.password_hash
    assert user.person is not None and user.person.iin_hash is None
    assert user.roles == {"learner"}
    # Logged in, and the UI now speaks the chosen language.
    page = client.get("/profile")
    assert page.status_code == 200
    assert '<html lang="kk">' in page.get_data(as_text=True)
    assert "Менің профилім" in page.get_data(as_text=True)


def test_registration_page_lists_regions_sectors_and_consent_in_ui_language(client) -> None:
    html = client.get("/register", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert region_name("KZ-62", "ru") in html and region_name("KZ-62", "kk") not in html
    assert "Не работаю / учусь / на пенсии" in html
    regions = re.search(r'<select[^>]*id="region".*?</select>', html, re.S).group(0)
    sectors = re.search(r'<select[^>]*id="sector".*?</select>', html, re.S).group(0)
    assert regions.count("<option") == 20
    assert sectors.count("<option") == 22
    assert "Согласие на обработку персональных данных" in html
    assert "2026-01" in html, "the version of the consent text is shown"
    for field in (
        "email",
        "password",
        "confirm",
        "full_name",
        "region",
        "sector",
        "birth_year",
        "locale",
        "iin",
        "consent",
    ):
        assert f'for="{field}"' in html, f"{field} has a label"


def test_duplicate_email_is_refused_whatever_the_case(client, session, make_user) -> None:
    taken = make_user()
    before = count_users(session)
    response = client.post(
        "/register", data=registration(email=taken.email.upper()), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert "already registered" in response.get_data(as_text=True)
    assert count_users(session) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iin": wrong_check_digit(valid_iin("90010130012"))}, "check digit does not match"),
        ({"iin": "12345"}, "exactly 12 digits"),
        ({"region": "KZ-99"}, "choose a region from the list"),
        ({"sector": "Z"}, "choose a sector from the list"),
        ({"sex": "other"}, "choose one of the options"),
        ({"locale": "de"}, "choose a language from the list"),
        ({"full_name": "Ә" * 201}, "at most 200 characters"),
        ({"full_name": "   "}, "This field is required."),
        ({"birth_year": str(date.today().year - 13)}, "at least 14 years old"),
        ({"birth_year": str(date.today().year + 1)}, "cannot be in the future"),
        ({"birth_year": "1899"}, "from 1900 on"),
        ({"birth_year": "nineteen"}, "four digits"),
        ({"consent": None}, "needs your consent"),
        ({"password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"confirm": "something else entirely"}, "do not match"),
        ({"email": "not-an-address"}, "valid e-mail address"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
    client, session, changes, message
) -> None:
    before = count_users(session)
    response = client.post(
        "/register", data=registration(**changes), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert any(message in error for error in field_errors(html)), field_errors(html)
    assert 'class="error-summary"' in html
    assert count_users(session) == before


def test_fourteen_years_before_this_year_is_accepted(client, session) -> None:
    response = client.post("/register", data=registration(birth_year=str(date.today().year - 14)))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))


def test_markup_in_name_is_stored_as_text_and_shown_escaped(client, session) -> None:
    name = '<script>alert("x")</script><b>Ерлан</b>'
    data = registration(full_name=name)
    assert client.post("/register", data=data).status_code == 302
    user = session.scalar(select(User).where(User.email == data["email"].lower()))
    assert user.full_name == name
    html = client.get("/profile").get_data(as_text=True)
    assert "<script>alert" not in html and "<b>Ерлан" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Ерлан" in html


def test_iin_is_stored_only_as_keyed_hash(client, session, app) -> None:
    iin = random_iin()
    data = registration(iin=iin)
    assert client.post("/register", data=data).status_code == 302
    user = session.scalar(select(User).where(User.email == data["email"].lower()))
    stored = user.person.iin_hash
    assert stored is not None and iin not in stored and len(stored) == 64
    assert stored == services.iin_digest(iin, key=services.iin_key(app.config))
    # The key matters: a plain SHA-256 of the IIN (guessable) is not what is kept.
    import hashlib

    assert stored != hashlib.sha256(iin.encode()).hexdigest()


def test_iin_hash_key_setting_is_used(app_settings, request, session) -> None:
    app_settings["IIN_HASH_KEY"] = "operator-chosen-key"
    app = request.getfixturevalue("app")
    iin = random_iin()
    client = app.test_client()
    assert client.post("/register", data=registration(iin=iin)).status_code == 302
    person = session.scalar(
        select(Person).where(
            Person.iin_hash == services.iin_digest(iin, key=b"operator-chosen-key")
        )
    )
    assert person is not None


def test_same_iin_joins_second_account_to_the_same_person(client, session, app) -> None:
    iin = random_iin()
    first, second = registration(iin=iin), registration(iin=iin)
    assert client.post("/register", data=first).status_code == 302
    client.post("/logout")
    assert client.post("/register", data=second).status_code == 302
    accounts = [
        session.scalar(select(User).where(User.email == d["email"].lower()))
        for d in (first, second)
    ]
    assert accounts[0].person_key == accounts[1].person_key
    assert (
        session.scalar(
            select(func.count()).select_from(Person).where(Person.key == accounts[0].person_key)
        )
        == 1
    )


def test_logged_in_visitor_is_sent_away_from_registration(client, make_user, login) -> None:
    login(make_user())
    assert client.get("/register").status_code == 302


def test_consent_text_is_shown_in_the_ui_language(client) -> None:
    kk = client.get("/register", headers={"Accept-Language": "kk"}).get_data(as_text=True)
    ru = client.get("/register", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "«Дербес деректер және оларды қорғау туралы» Заңына" in kk
    assert "«О персональных данных и их защите»" in ru


def test_service_refuses_values_a_tampered_form_could_send(session) -> None:
    before = count_users(session)
    good = services.Profile(
        full_name="Асель",
        region="KZ-75",
        sector="none",
        birth_year=1990,
        sex=Sex.FEMALE,
        locale="ru",
    )
    for bad in (
        dict(region="KZ-00"),
        dict(sector="Z"),
        dict(birth_year=date.today().year),
        dict(locale="de"),
        dict(full_name="x" * 201),
    ):
        with pytest.raises(services.InvalidProfile):
            services.register(
                session,
                email=f"svc-{random_iin()}@example.kz",
                password="long enough password",
                profile=services.Profile(**{**good.__dict__, **bad}),
                consent_version="2026-01",
            )
    assert count_users(session) == before
