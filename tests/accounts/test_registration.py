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


def log_in_with_password(client, data) -> None:
    response = client.post("/login", data={"email": data["email"], "password": data["password"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_register_creates_account_usable_at_once_and_records_consent(
    client, session, app, caplog
) -> None:
    data = registration()
    caplog.set_level("INFO", logger="lms.mail")
    response = client.post("/register", data=data)
    assert response.status_code == 302
    response.close()  # as a server does once the answer is sent: the mail goes out then
    assert response.headers["Location"] == "/register/sent"
    page = client.get("/register/sent", headers={"Accept-Language": "en"})
    assert "Check your e-mail" in page.get_data(as_text=True)
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
    # The welcome mail's link logs in (once); the UI then speaks the chosen language.
    texts = [r.getMessage() for r in caplog.records if r.name == "lms.mail"]
    link = re.findall(r"https?://\S+(/login/link/\S+)", texts[-1])[-1]
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    page = client.get("/profile")
    assert page.status_code == 200
    assert '<html lang="kk">' in page.get_data(as_text=True)
    assert "Менің профилім" in page.get_data(as_text=True)
    client.post("/logout")
    assert client.post(link).status_code == 400, "the link works once"
    log_in_with_password(client, data)
    assert client.get("/profile").status_code == 200


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


def test_known_address_gets_the_same_answer_and_the_owner_a_mail(
    client, session, make_user, caplog
) -> None:
    taken = make_user(full_name="Бұрынғы Иесі")
    caplog.set_level("INFO", logger="lms.mail")
    before = (count_users(session), taken.password_hash, taken.full_name, taken.region)
    en = {"Accept-Language": "en"}
    known = client.post(
        "/register",
        data=registration(email=taken.email.upper(), full_name="Басқа Адам", region="KZ-11"),
        headers=en,
    )
    known.close()
    known_page = client.get(known.headers["Location"], headers=en).get_data(as_text=True)
    mails = [r.getMessage() for r in caplog.records if r.name == "lms.mail"]
    assert len(mails) == 1 and taken.email in mails[0]
    assert "already have an account" in mails[0] and "nothing about it has changed" in mails[0]
    session.expire_all()
    assert count_users(session) == before[0]
    assert (taken.password_hash, taken.full_name, taken.region) == before[1:]
    new = client.post("/register", data=registration(), headers=en)
    new_page = client.get(new.headers["Location"], headers=en).get_data(as_text=True)
    assert (known.status_code, known.headers["Location"]) == (
        new.status_code,
        new.headers["Location"],
    )
    assert known.get_data() == new.get_data()
    strip = lambda html: re.sub(r'name="csrf-token" content="[^"]*"|nonce="[^"]*"', "", html)  # noqa: E731
    assert strip(known_page) == strip(new_page)
    assert "already registered" not in known.get_data(as_text=True) + known_page
    # The password the stranger typed does not open the account.
    response = client.post(
        "/login", data={"email": taken.email, "password": "steppe wind and apples"}
    )
    assert response.status_code == 400


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
    log_in_with_password(client, data)
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
