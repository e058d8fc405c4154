"""The catalogue's filter form (GET, no CSRF: it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice

from lms.i18n import LANGUAGE_NAMES, LANGUAGES
from lms.reference import sectors


class CatalogueFilter(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Title contains"))
    tier = SelectField(_l("Tier"), default="")
    language = SelectField(_l("Course language"), default="")
    sector = SelectField(_l("Sector"), default="")

    def fill_choices(self, locale: str) -> None:
        """Choices, named in the UI language."""
        self.tier.choices = [
            SelectChoice("", _l("All tiers")),
            SelectChoice("public", _l("Public")),
            SelectChoice("specialist", _l("Specialist")),
        ]
        self.language.choices = [SelectChoice("", _l("All languages"))] + [
            SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES
        ]
        self.sector.choices = [SelectChoice("", _l("All sectors"))] + [
            SelectChoice(s.code, f"{s.code}: {s.name(locale)}") for s in sectors()
        ]
