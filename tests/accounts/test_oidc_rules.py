"""Single sign-on without a provider: the settings, the claims required, accounts, IINs.

The flow against a real OpenID provider, in Chromium, is in tests/oidc (``-m oidc``).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from lms import create_app
from lms.accounts import oidc, services
from lms.accounts.models import OidcLink, Person, Sex, User
from tests.accounts.conftest import random_iin
from tests.conftest import PASSWORD
from tests.conftest import test_settings as app_settings_for

KEY = b"test-iin-key"
PROVIDER = {
    "name": "akimat",
    "issuer": "https://id.akimat.example.kz",
    "client_id": "oqu",
    "client_secret": "s3cret",
    "label": "Akimat ID",
    "iin_claim": "iin",
}


def settings(**changes: object) -> oidc.ProviderSettings:
    return oidc.parse_providers([{**PROVIDER, **changes}])[0]


def claims(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "sub": "subject-1",
        "email": "Dana@Example.kz",
        "email_verified": True,
        "name": "Дана Серікқызы",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def identity(**changes: object) -> oidc.Identity:
    return oidc.identity_from_claims(settings(), claims(**changes), iin_key=KEY)


def profile() -> services.Profile:
    return services.Profile(
        full_name="Дана Серікқызы",
        region="KZ-75",
        sector="J",
        birth_year=date.today().year - 30,
        sex=Sex.FEMALE,
        locale="kk",
    )


# Settings


def test_providers_read_from_json_text_with_labels_by_language() -> None:
    text = json.dumps(
        [
            PROVIDER,
            {
                **PROVIDER,
                "name": "uni",
                "label": {"kk": "Университет", "en": "University"},
                "iin_claim": None,
            },
        ]
    )
    akimat, uni = oidc.parse_providers(text)
    assert (akimat.name, akimat.issuer, akimat.client_id, akimat.iin_claim) == (
        "akimat",
        "https://id.akimat.example.kz",
        "oqu",
        "iin",
    )
    assert akimat.label("ru") == "Akimat ID"
    assert (uni.label("kk"), uni.label("en"), uni.iin_claim) == ("Университет", "University", None)
    assert "s3cret" not in repr(akimat)
    assert oidc.parse_providers("[]") == [] and oidc.parse_providers("") == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[{", "not valid JSON"),
        ('{"name": "a"}', "must be a JSON list"),
        (["akimat"], r"\[0\] must be an object"),
        ([{**PROVIDER, "client_id": ""}], "client_id is missing"),
        ([{k: v for k, v in PROVIDER.items() if k != "issuer"}], "issuer is missing"),
        ([{**PROVIDER, "label": ""}], "label must be a text"),
        ([{**PROVIDER, "label": {"de": "Akimat"}}], "label must be a text"),
        ([{**PROVIDER, "name": "Akimat ID"}], "lower-case letters"),
        ([PROVIDER, PROVIDER], "used twice"),
        ([{**PROVIDER, "issuer": "http://id.akimat.example.kz"}], "must be an https URL"),
        ([{**PROVIDER, "issuer": "https://id.example.kz/?tenant=1"}], "without query"),
        ([{**PROVIDER, "scope": "openid"}], "unknown key"),
        ([{**PROVIDER, "iin_claim": ""}], "iin_claim must be a claim name"),
    ],
)
def test_wrong_provider_settings_are_refused_with_a_clear_message(value, message) -> None:
    with pytest.raises(oidc.OidcConfigError, match=message):
        oidc.parse_providers(value)


def test_plain_http_issuer_only_on_this_machine() -> None:
    assert settings(issuer="http://127.0.0.1:9000").issuer == "http://127.0.0.1:9000"
    assert settings(issuer="http://localhost:9000/realms/oqu").name == "akimat"


def test_the_app_does_not_start_with_wrong_settings(database_url, instance_dir) -> None:
    broken = json.dumps([{**PROVIDER, "issuer": "ftp://id.example.kz"}])
    with pytest.raises(oidc.OidcConfigError, match="issuer"):
        create_app(app_settings_for(database_url, instance_dir, OIDC_PROVIDERS=broken))


def test_providers_come_from_the_environment(database_url, instance_dir, monkeypatch) -> None:
    monkeypatch.setenv("LMS_OIDC_PROVIDERS", json.dumps([PROVIDER]))
    app = create_app(app_settings_for(database_url, instance_dir))
    html = app.test_client().get("/login", headers={"Accept-Language": "en"}).get_data(True)
    assert "Sign in with Akimat ID" in html
    monkeypatch.setenv("LMS_OIDC_PROVIDERS", '[{"name": "akimat",')
    with pytest.raises(oidc.OidcConfigError, match="not valid JSON"):
        create_app(app_settings_for(database_url, instance_dir))


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_login_page_has_a_button_per_provider_in_each_language(
    database_url, instance_dir, locale
) -> None:
    providers = json.dumps([PROVIDER, {**PROVIDER, "name": "uni", "label": {"kk": "ҚазҰУ"}}])
    app = create_app(app_settings_for(database_url, instance_dir, OIDC_PROVIDERS=providers))
    html = app.test_client().get("/login", headers={"Accept-Language": locale}).get_data(True)
    words = {
        "kk": "арқылы кіру",
        "ru": "Войти через",
        "en": "Sign in with",
    }[locale]
    assert words in html
    assert 'href="/login/oidc/akimat"' in html and "Akimat ID" in html
    assert 'href="/login/oidc/uni"' in html and "ҚазҰУ" in html


def test_no_buttons_without_providers(client) -> None:
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in with" not in html
    assert client.get("/login/oidc/akimat").status_code == 404


# Claims


def test_identity_needs_a_verified_email() -> None:
    found = identity(iin=None)
    assert (found.provider, found.subject, found.email, found.name) == (
        "akimat",
        "subject-1",
        "dana@example.kz",
        "Дана Серікқызы",
    )
    assert identity(email_verified="true").email == "dana@example.kz"
    for changes, reason in [
        ({"email_verified": False}, "email_unverified"),
        ({"email_verified": "false"}, "email_unverified"),
        ({"email_verified": None}, "email_unverified"),
        ({"email": None}, "no_email"),
        ({"email": "not an address"}, "no_email"),
        ({"sub": None}, "no_subject"),
    ]:
        with pytest.raises(oidc.IdentityRefused) as refused:
            identity(**changes)
        assert refused.value.reason == reason


def test_name_from_given_and_family_name() -> None:
    assert identity(name=None, given_name="Дана", family_name="Серікқызы").name == (
        "Дана Серікқызы"
    )
    assert identity(name=None).name == ""


def test_iin_claim_kept_only_as_a_hash_and_only_when_valid() -> None:
    iin = random_iin()
    found = identity(iin=iin)
    assert found.iin_hash == services.iin_digest(iin, key=KEY)
    assert iin not in json.dumps(found.as_dict())
    assert identity(iin=iin[:11] + str((int(iin[11]) + 1) % 10)).iin_hash is None
    assert identity(iin="12345").iin_hash is None
    other = oidc.identity_from_claims(settings(iin_claim=None), claims(iin=iin), iin_key=KEY)
    assert other.iin_hash is None


# Accounts and IINs


def test_first_sign_in_creates_a_linked_account_without_password(session) -> None:
    iin = random_iin()
    user = oidc.create_account(
        session, identity=identity(iin=iin), profile=profile(), consent_version="2026-01"
    )
    assert user.email == "dana@example.kz" and user.password_hash == ""
    assert services.authenticate(session, email=user.email, password="") is None
    assert oidc.find_link(session, provider="akimat", subject="subject-1").user_id == user.id
    assert user.person.iin_hash == services.iin_digest(iin, key=KEY)
    assert user.person.iin_verified_by == "akimat" and user.person.iin_verified_at is not None


def test_creating_refuses_a_taken_email(session, make_user) -> None:
    make_user(email="dana@example.kz")
    with pytest.raises(services.EmailTaken):
        oidc.create_account(
            session, identity=identity(), profile=profile(), consent_version="2026-01"
        )
    assert oidc.find_link(session, provider="akimat", subject="subject-1") is None


def test_iin_recorded_as_verified_when_none_on_file(session, make_user) -> None:
    user = make_user()
    oidc.link(session, user=user, identity=identity(iin=None))
    row = oidc.find_link(session, provider="akimat", subject="subject-1")
    iin = random_iin()
    assert oidc.signed_in(session, link_row=row, identity=identity(iin=iin)) == user
    assert user.person.iin_hash == services.iin_digest(iin, key=KEY)
    assert user.person.iin_verified_by == "akimat"


def test_same_iin_on_file_becomes_verified(session, make_user) -> None:
    iin = random_iin()
    user = make_user(iin_hash=services.iin_digest(iin, key=KEY))
    assert user.person.iin_verified_by is None
    oidc.link(session, user=user, identity=identity(iin=iin))
    assert user.person.iin_verified_by == "akimat"


def test_a_different_iin_on_file_stops_sign_in_and_changes_nothing(session, make_user) -> None:
    on_file = services.iin_digest(random_iin(), key=KEY)
    user = make_user(iin_hash=on_file)
    with pytest.raises(oidc.IinConflict):
        oidc.link(session, user=user, identity=identity(iin=random_iin()))
    assert oidc.find_link(session, provider="akimat", subject="subject-1") is None
    assert user.person.iin_hash == on_file and user.person.iin_verified_by is None

    oidc.link(session, user=user, identity=identity(iin=None))
    row = oidc.find_link(session, provider="akimat", subject="subject-1")
    with pytest.raises(oidc.IinConflict):
        oidc.signed_in(session, link_row=row, identity=identity(iin=random_iin()))
    assert user.person.iin_hash == on_file


def test_an_asserted_iin_of_another_account_joins_the_two_people(session, make_user) -> None:
    iin = random_iin()
    first = make_user(iin_hash=services.iin_digest(iin, key=KEY))
    second = make_user()
    dropped = second.person_key
    oidc.link(session, user=second, identity=identity(iin=iin))
    assert second.person_key == first.person_key
    assert session.get(Person, dropped) is None
    assert first.person.iin_verified_by == "akimat"


def test_one_provider_account_signs_in_to_one_oqu_account(session, make_user) -> None:
    owner, other = make_user(), make_user()
    oidc.link(session, user=owner, identity=identity())
    with pytest.raises(oidc.LinkedElsewhere):
        oidc.link(session, user=other, identity=identity())
    with pytest.raises(oidc.AlreadyLinked):
        oidc.link(session, user=owner, identity=identity(sub="subject-2"))
    assert set(oidc.links_of(session, user=other)) == set()


def test_unlink_only_with_a_password(session) -> None:
    user = oidc.create_account(
        session, identity=identity(), profile=profile(), consent_version="2026-01"
    )
    with pytest.raises(oidc.NoPassword):
        oidc.unlink(session, user=user, provider="akimat")
    assert "akimat" in oidc.links_of(session, user=user)
    services.set_password(session, user=user, password=PASSWORD)
    assert oidc.unlink(session, user=user, provider="akimat") is True
    assert oidc.links_of(session, user=user) == {}
    assert oidc.unlink(session, user=user, provider="akimat") is False


def test_deleting_the_account_deletes_its_links(session, make_user) -> None:
    user = make_user()
    oidc.link(session, user=user, identity=identity())
    services.delete_account(session, user=user, password=PASSWORD)
    assert session.scalars(select(OidcLink).where(OidcLink.subject == "subject-1")).all() == []
    assert session.scalars(select(User).where(User.email == user.email)).all() == []


def test_mailed_link_token_works_once_for_its_account(session, make_user) -> None:
    user = make_user()
    token = oidc.link_token(user, identity(), secret="secret")
    found = oidc.read_link_token(session, token=token, secret="secret")
    assert found is not None and found[0] == user and found[1].subject == "subject-1"
    assert oidc.read_link_token(session, token=token, secret="another") is None
    assert oidc.read_link_token(session, token=token + "x", secret="secret") is None
    assert oidc.read_link_token(session, token=token, secret="secret", max_age=-1) is None
    oidc.link(session, user=user, identity=found[1])
    assert oidc.read_link_token(session, token=token, secret="secret") is None
