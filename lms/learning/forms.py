"""Forms of the learning pages: enrolment, "mark as done", and the quiz's envelope."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from lms.i18n import LANGUAGE_NAMES

# Matches ``scoring.FIELD_PREFIX``: the name of an answer field is "q-<question key>".
ANSWER_PREFIX = "q-"


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
    """The CSRF token, the number of the attempt the page was shown for, and the answers.

    The questions are data, not fixed fields: the form keeps every ``q-<question key>`` field
    it was sent in ``answers``, and each question's kind reads and checks its own
    (``scoring.read_answers``), refusing whatever the page could not have sent.
    """

    attempt = HiddenField()

    def process(
        self,
        formdata: Any = None,
        obj: Any = None,
        data: Any = None,
        extra_filters: Any = None,
        **kwargs: Any,
    ) -> None:
        formdata = self.meta.wrap_formdata(self, formdata)
        self.answers: dict[str, list[str]] = (
            {name: formdata.getlist(name) for name in formdata if name.startswith(ANSWER_PREFIX)}
            if formdata is not None
            else {}
        )
        super().process(formdata, obj, data, extra_filters, **kwargs)
