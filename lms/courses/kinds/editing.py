"""Helpers the kinds' studio editors share: texts per language from ``<prefix>_<lang>``
fields, and the rule that the course's first language is filled."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lms.i18n import LANGUAGE_NAMES


def texts(form: Any, prefix: str, languages: list[str]) -> dict[str, str]:
    """The form's ``<prefix>_<lang>`` fields as texts per language (blank ones left out)."""
    found = {}
    for lang in languages:
        value = (getattr(form, f"{prefix}_{lang}").data or "").strip()
        if value:
            found[lang] = value
    return found


def require_first(form: Any, prefix: str, languages: list[str]) -> bool:
    """Flag the first language's field when it is blank; True when it is filled."""
    first = languages[0]
    field = getattr(form, f"{prefix}_{first}")
    if not (field.data or "").strip():
        field.errors = [
            *field.errors,
            _l("Required in the course's first language (%(lang)s).", lang=LANGUAGE_NAMES[first]),
        ]
        return False
    return True


def fill_texts(form: Any, prefix: str, values: dict[str, str] | None, languages: Any) -> None:
    """Put texts per language into the ``<prefix>_<lang>`` fields."""
    for lang in languages:
        getattr(form, f"{prefix}_{lang}").data = (values or {}).get(lang, "")
