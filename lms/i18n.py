"""Three UI languages: locale selection, the switcher, and catalogues per feature package.

Each feature package keeps its own ``translations/`` folder (``kk`` and ``ru`` catalogues,
English being the source language). Flask-Babel merges them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, request
from flask_babel import get_locale, get_translations
from flask_login import current_user

from lms.extensions import babel

LANGUAGES = ("kk", "ru", "en")
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
COOKIE = "oqu_lang"
LMS_ROOT = Path(__file__).resolve().parent

bp = Blueprint("i18n", __name__)


def translation_directories() -> list[Path]:
    """Every ``translations/`` folder of the app and its feature packages."""
    found = [LMS_ROOT / "translations"]
    found += sorted(p for p in LMS_ROOT.glob("*/translations") if p.is_dir())
    return [p for p in found if p.is_dir()]


def select_locale() -> str:
    """The user's preference, else the switcher's cookie, else Accept-Language."""
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or current_app.config["DEFAULT_LOCALE"]


def current_language() -> str:
    """The language of the current request as a plain code."""
    return str(get_locale() or "kk")


def localized(
    texts: dict[str, str] | None,
    languages: list[str] | tuple[str, ...] = (),
    locale: str | None = None,
) -> str:
    """Pick the text in ``locale``, else the content's first language, else any."""
    if not texts:
        return ""
    locale = locale or current_language()
    if texts.get(locale):
        return texts[locale]
    for lang in languages:
        if texts.get(lang):
            return texts[lang]
    return next((v for v in texts.values() if v), "")


def template_translations() -> Any:
    """The catalogue for the current locale, looked up once per request and locale.

    Flask-Babel finds it anew for every string a template translates. ``force_locale`` and
    ``refresh()`` change the locale object, so they still take effect at once.
    """
    locale = get_locale()
    if locale is None:
        return get_translations()
    remembered = g.get("_oqu_translations")
    if remembered is None or remembered[0] is not locale:
        remembered = g._oqu_translations = (locale, get_translations())
    return remembered[1]


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything pointing elsewhere becomes ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def remember_language(response: Any, code: str) -> Any:
    """Set the switcher's cookie on ``response`` (secure whenever the session cookie is)."""
    response.set_cookie(
        COOKIE,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
    )
    return response


@bp.route("/lang/<code>", methods=["GET", "POST"])
def switch(code: str) -> Any:
    """Remember the chosen UI language in a cookie; a logged-in user's switch posts the form
    in the page header, which also saves it on the profile (a link cannot change an account).
    """
    target = request.form.get("next") if request.method == "POST" else request.args.get("next")
    response = redirect(safe_next(target), 303 if request.method == "POST" else 302)
    if code in LANGUAGES:
        remember_language(response, code)
        if (
            request.method == "POST"
            and getattr(current_user, "is_authenticated", False)
            and current_user.locale != code
        ):
            from lms import events
            from lms.db import db

            events.language_chosen.send(
                current_user._get_current_object(), session=db.session(), code=code
            )
            db.session().commit()
    return response


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        str(p) for p in translation_directories()
    )
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    # Days are Almaty calendar days (docs/architecture.md); dates and times are shown in that zone.
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Almaty")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n
        gettext=lambda s: template_translations().ugettext(s),
        ngettext=lambda s, p, n: template_translations().ungettext(s, p, n),
        pgettext=lambda c, s: template_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: template_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.register_blueprint(bp)

    @app.context_processor
    def inject_languages() -> dict[str, Any]:
        return {
            "LANGUAGES": LANGUAGES,
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_language": current_language,
            "localized": localized,
        }


def compile_catalogues() -> int:
    """Compile every ``.po`` into ``.mo``; returns how many were written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    count = 0
    for directory in translation_directories():
        for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=po_path.parent.parent.name)
            with mo_path.open("wb") as handle:
                write_mo(handle, catalog)
            count += 1
    return count
