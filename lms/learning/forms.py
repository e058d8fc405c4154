"""Forms of the learning pages: enrolment, "mark as done", and the quiz's envelope."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from lms.i18n import LANGUAGE_NAMES


class EnrolForm(FlaskForm):
    """Choose the language to take the course in."""

    language = SelectField(_l("Language of study"), validators=[InputRequired()])

    def offer(self, languages: list[str]) -> None:
        """Offer the course's languages, named in their own language."""
        self.language.choices = [
            SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in languages
        ]


class MarkDoneForm(FlaskForm):
    """Only a CSRF token: the lesson is in the URL."""


class QuizForm(FlaskForm):
    """The CSRF token and the number of the attempt the page was shown for.

    The answers are read field by field against the quiz (see ``scoring.read_answers``),
    since the questions are data, not a fixed form.
    """

    attempt = HiddenField()
