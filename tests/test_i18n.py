"""Every UI string has a Kazakh and a Russian translation; the UI language is chosen right.

Each translation folder is checked against the messages extracted from its own source:
``lms/translations`` against the core layout (``lms/templates``, ``lms/main`` and the
modules at the root of ``lms``), ``lms/<feature>/translations`` against ``lms/<feature>``.
A feature may rely on the core catalogue for a string the core layout already uses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from lms.i18n import COOKIE, compile_catalogues

ROOT = Path(__file__).resolve().parent.parent
LMS = ROOT / "lms"
CORE = "core"
# Python code marks strings with gettext/_ and the lazy variants used in forms.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
NOT_FEATURES = {"translations", "templates", "static", "reference", "__pycache__"}


def _method_map() -> tuple[list, dict]:
    with (ROOT / "babel.cfg").open() as handle:
        return parse_mapping_cfg(handle)


def _core_dirs(dirpath: str) -> bool:
    parts = Path(dirpath).resolve().relative_to(LMS).parts
    return parts[:1] in ((), ("templates",), ("main",)) and "__pycache__" not in parts


def _feature_dirs(dirpath: str) -> bool:
    parts = Path(dirpath).parts
    return "__pycache__" not in parts and "translations" not in parts


def features() -> list[str]:
    return sorted(
        p.name
        for p in LMS.iterdir()
        if p.is_dir()
        and p.name not in NOT_FEATURES
        and (p / "__init__.py").exists()
        and p.name != "main"
    )


def domains() -> list[str]:
    found = [CORE] if (LMS / "translations").is_dir() else []
    return found + [name for name in features() if (LMS / name / "translations").is_dir()]


def _source(domain: str) -> tuple[Path, Callable[[str], bool]]:
    return (LMS, _core_dirs) if domain == CORE else (LMS / domain, _feature_dirs)


def _translations(domain: str) -> Path:
    return LMS / "translations" if domain == CORE else LMS / domain / "translations"


@cache
def extracted(domain: str) -> dict[str, str]:
    """Each msgid (the singular for plurals) of ``domain`` and where it first appears."""
    source, keep = _source(domain)
    method_map, options_map = _method_map()
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(source), method_map, options_map, keywords=KEYWORDS, directory_filter=keep
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"{source.relative_to(ROOT) / filename}:{lineno}")
    return found


@cache
def catalogue(domain: str, lang: str) -> Catalog | None:
    path = _translations(domain) / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def is_translated(catalog: Catalog | None, msgid: str) -> bool:
    if catalog is None:
        return False
    message = catalog.get(msgid)
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(strings) and all(s and s.strip() for s in strings)


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("domain", domains())
def test_every_message_has_a_translation(domain: str, lang: str) -> None:
    catalog = catalogue(domain, lang)
    assert catalog is not None, f"{_translations(domain)}/{lang}/LC_MESSAGES/messages.po is missing"
    core = catalogue(CORE, lang) if domain != CORE else None
    missing = [
        f"{msgid!r} ({where})"
        for msgid, where in extracted(domain).items()
        if not is_translated(catalog, msgid) and not is_translated(core, msgid)
    ]
    assert not missing, (
        f"{lang} lacks a translation (empty, fuzzy or absent) in "
        f"{_translations(domain).relative_to(ROOT)} for:\n  " + "\n  ".join(missing)
    )


def test_every_feature_with_ui_strings_has_its_own_catalogues() -> None:
    lacking = [
        f"lms/{name}: {len(extracted(name))} messages, e.g. {next(iter(extracted(name)))!r}"
        for name in features()
        if not (LMS / name / "translations").is_dir() and extracted(name)
    ]
    assert not lacking, (
        "feature packages with gettext calls but no translations/ folder:\n" + "\n".join(lacking)
    )


def test_core_strings_are_checked_once_in_the_core_catalogue() -> None:
    core = extracted(CORE)
    assert "Skip to content" in core and "This page does not exist." in core
    for name in features():
        # A feature's own source never yields the layout's strings unless it uses them itself.
        assert "Skip to content" not in extracted(name), name


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    compile_catalogues()


def page_language(html: str) -> str:
    start = html.index('<html lang="') + len('<html lang="')
    return html[start : html.index('"', start)]


def test_language_switcher_sets_the_cookie_and_is_remembered(client) -> None:
    response = client.get("/lang/ru?next=/login")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    cookie = response.headers["Set-Cookie"]
    assert f"{COOKIE}=ru" in cookie and "HttpOnly" in cookie
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page_language(html) == "ru" and "Войти" in html


def test_switcher_ignores_unknown_languages_and_foreign_redirects(client) -> None:
    response = client.get("/lang/xx?next=https://evil.example/")
    assert "Set-Cookie" not in response.headers
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize(
    ("header", "expected", "text"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.5", "ru", "Войти"),
        ("en-GB,en;q=0.9", "en", "Log in"),
        ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk", "Кіру"),
    ],
)
def test_accept_language_is_honoured(client, header, expected, text) -> None:
    html = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert page_language(html) == expected and text in html


@pytest.fixture
def own_context_client(app_settings, session):
    """A client whose every request gets its own app context, as in production.

    (The shared ``app`` fixture keeps one app context open, so Flask-Babel's per-context
    locale would outlive a request.)
    """
    from lms import create_app
    from lms.db import db

    application = create_app(app_settings)
    db.use_session(application, session)
    return application.test_client()


def test_logged_in_users_preference_wins(own_context_client, make_user, session) -> None:
    from tests.conftest import PASSWORD

    client = own_context_client
    user = make_user(locale="kk")
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )
    client.set_cookie(COOKIE, "en")
    html = client.get("/profile", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert page_language(html) == "kk" and "Менің профилім" in html
    # A link cannot change an account: a GET only sets the cookie, the preference stays.
    client.get("/lang/ru?next=/profile")
    session.refresh(user)
    assert user.locale == "kk"
    # The switcher in the header posts a form; switching while logged in changes the
    # preference itself.
    html = client.get("/profile").get_data(as_text=True)
    assert 'action="/lang/ru"' in html and 'href="/lang/ru' not in html
    response = client.post("/lang/ru", data={"next": "/profile"})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    session.refresh(user)
    assert user.locale == "ru"
    html = client.get("/profile", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page_language(html) == "ru" and "Мой профиль" in html


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_one_message_has_one_translation_across_catalogues(lang: str) -> None:
    # Flask-Babel merges every catalogue into one: a msgid translated two ways would show
    # whichever catalogue happened to load last, on every page.
    seen: dict[str, dict[str, str]] = {}
    for domain in domains():
        catalog = catalogue(domain, lang)
        for message in catalog or ():
            if not message.id or message.fuzzy:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            text = message.string if isinstance(message.string, str) else message.string[0]
            seen.setdefault(msgid, {})[domain] = text
    clashes = [
        f"{msgid!r}: {by_domain}"
        for msgid, by_domain in sorted(seen.items())
        if len(set(by_domain.values())) > 1
    ]
    assert not clashes, (
        f"{lang}: the same message is translated differently (give the "
        "English a context of its own, or one translation):\n  " + "\n  ".join(clashes)
    )
