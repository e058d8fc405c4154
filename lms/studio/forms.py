"""The studio's forms. Every rule is checked on the server; messages say what to fix."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from lms.i18n import LANGUAGE_NAMES, LANGUAGES
from lms.reference import sectors

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
OPTION_ROWS = 6


def key_field(label: Any) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(_l("Enter an id.")),
            Length(max=80, message=_l("At most 80 characters.")),
            Regexp(
                KEY_PATTERN,
                message=_l(
                    "Use small Latin letters, digits and hyphens, starting with a letter or digit."
                ),
            ),
        ],
    )


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


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


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""


class CourseForm(FlaskForm):
    slug = key_field(_l("Slug (the course's address)"))
    tier = SelectField(
        _l("Tier"),
        validators=[InputRequired()],
        choices=[
            SelectChoice("public", _l("Public: AI for everyone")),
            SelectChoice("specialist", _l("Specialist: AI for industry")),
        ],
    )
    sectors = SelectMultipleField(
        _l("Sectors (OKED sections)"), choices=[], validators=[Optional()]
    )
    first_language = SelectField(_l("First language (the default)"), choices=[])
    other_languages = SelectMultipleField(
        _l("Other languages"), choices=[], validators=[Optional()]
    )
    title_kk = StringField(_l("Title in Kazakh"), validators=[Length(max=200)])
    title_ru = StringField(_l("Title in Russian"), validators=[Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=200)])
    summary_kk = TextAreaField(_l("Summary in Kazakh"), validators=[Length(max=2000)])
    summary_ru = TextAreaField(_l("Summary in Russian"), validators=[Length(max=2000)])
    summary_en = TextAreaField(_l("Summary in English"), validators=[Length(max=2000)])

    def fill_choices(self, locale: str) -> None:
        self.sectors.choices = [
            SelectChoice(s.code, f"{s.code}: {s.name(locale)}") for s in sectors()
        ]
        self.first_language.choices = language_choices()
        self.other_languages.choices = language_choices()

    @property
    def languages(self) -> list[str]:
        first = self.first_language.data
        return [first] + [
            c for c in LANGUAGES if c in (self.other_languages.data or []) and c != first
        ]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.first_language.data not in LANGUAGES:
            return False
        languages = self.languages
        ok = require_first(self, "title", languages) and ok
        ok = require_first(self, "summary", languages) and ok
        return ok


class CoInstructorForm(FlaskForm):
    email = EmailField(
        _l("E-mail of the instructor"),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            Email(_l("Enter a valid e-mail address.")),
        ],
    )


class TitlesMixin:
    title_kk = StringField(_l("Title in Kazakh"), validators=[Length(max=200)])
    title_ru = StringField(_l("Title in Russian"), validators=[Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[Length(max=200)])


class ModuleForm(TitlesMixin, FlaskForm):
    key = key_field(_l("Module id"))


class ModuleTitleForm(TitlesMixin, FlaskForm):
    pass


class ItemForm(TitlesMixin, FlaskForm):
    key = key_field(_l("Item id (never changes later)"))
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("lesson", _l("Lesson")),
            SelectChoice("quiz", _l("Quiz")),
            SelectChoice("assignment", _l("Notebook assignment")),
        ],
    )
    module = SelectField(_l("Module"), coerce=int, choices=[])
    required = BooleanField(_l("Required to complete the course"), default=True)


class ItemSettingsForm(TitlesMixin, FlaskForm):
    required = BooleanField(_l("Required to complete the course"))


class MoveToModuleForm(FlaskForm):
    module = SelectField(_l("Move to module"), coerce=int, choices=[])


class LessonForm(FlaskForm):
    body_kk = TextAreaField(_l("Lesson in Kazakh (Markdown)"))
    body_ru = TextAreaField(_l("Lesson in Russian (Markdown)"))
    body_en = TextAreaField(_l("Lesson in English (Markdown)"))


def fraction_field(label: Any) -> DecimalField:
    return DecimalField(
        label,
        places=3,
        validators=[
            InputRequired(_l("Enter a number between 0 and 1.")),
            NumberRange(min=0.001, max=1, message=_l("Enter a number above 0 and at most 1.")),
        ],
    )


def attempts_field() -> IntegerField:
    return IntegerField(
        _l("Attempt limit (empty: unlimited)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=1000, message=_l("Enter a whole number from 1.")),
        ],
    )


def _three_places(form: Any, field: Any) -> None:
    if field.data is not None and field.data != field.data.quantize(field.data.__class__("0.001")):
        raise ValidationError(_l("Use at most 3 decimal places."))


class QuizSettingsForm(FlaskForm):
    pass_mark = fraction_field(_l("Pass mark (fraction of the points, e.g. 0.7)"))
    max_attempts = attempts_field()

    def validate_pass_mark(self, field: Any) -> None:
        _three_places(self, field)


class OptionForm(Form):
    # The option's id, carried through the form so that an edit never renames an option.
    key = HiddenField()
    text_kk = StringField(_l("Option in Kazakh"))
    text_ru = StringField(_l("Option in Russian"))
    text_en = StringField(_l("Option in English"))
    correct = BooleanField(_l("Correct answer"))


class QuestionForm(FlaskForm):
    kind = SelectField(
        _l("Kind of question"),
        choices=[
            SelectChoice("single", _l("Single choice")),
            SelectChoice("multiple", _l("Multiple choice")),
            SelectChoice("numeric", _l("Number")),
            SelectChoice("text", _l("Short text")),
        ],
    )
    points = DecimalField(
        _l("Points"),
        default=1,
        places=2,
        validators=[
            InputRequired(_l("Enter the points.")),
            NumberRange(min=0.01, max=9999, message=_l("Enter points from 0.01 to 9999.")),
        ],
    )
    prompt_kk = TextAreaField(_l("Question in Kazakh"))
    prompt_ru = TextAreaField(_l("Question in Russian"))
    prompt_en = TextAreaField(_l("Question in English"))
    explanation_kk = TextAreaField(_l("Explanation in Kazakh"))
    explanation_ru = TextAreaField(_l("Explanation in Russian"))
    explanation_en = TextAreaField(_l("Explanation in English"))
    options = FieldList(FormField(OptionForm), min_entries=OPTION_ROWS, max_entries=OPTION_ROWS)
    value = StringField(_l("Correct number"))
    tolerance = StringField(_l("Tolerance (absolute, 0 or more)"), default="0")
    accepted_kk = TextAreaField(_l("Accepted answers in Kazakh (one a line)"))
    accepted_ru = TextAreaField(_l("Accepted answers in Russian (one a line)"))
    accepted_en = TextAreaField(_l("Accepted answers in English (one a line)"))

    def check(self, languages: list[str]) -> bool:
        """The rules of each kind of question, for a course in ``languages``."""
        ok = self.validate()
        ok = require_first(self, "prompt", languages) and ok
        kind = self.kind.data
        if kind in ("single", "multiple"):
            filled = [row for row in self.options if texts(row.form, "text", languages)]
            correct = [row for row in filled if row.form.correct.data]
            if len(filled) < 2:
                self.options.errors = [_l("Give at least two options.")]
                ok = False
            for row in filled:
                if not require_first(row.form, "text", languages):
                    self.options.errors = [
                        _l("Every option needs a text in the course's first language.")
                    ]
                    ok = False
            if kind == "single" and len(correct) != 1:
                self.options.errors = [
                    *self.options.errors,
                    _l("A single-choice question needs exactly one correct option."),
                ]
                ok = False
            if kind == "multiple" and not correct:
                self.options.errors = [
                    *self.options.errors,
                    _l("A multiple-choice question needs at least one correct option."),
                ]
                ok = False
        elif kind == "numeric":
            if self.number(self.value.data) is None:
                self.value.errors = [_l("Enter a number, like 3.5.")]
                ok = False
            tolerance = self.number(self.tolerance.data or "0")
            if tolerance is None or tolerance < 0:
                self.tolerance.errors = [_l("Enter a number that is 0 or more.")]
                ok = False
        elif kind == "text" and not self.accepted(languages).get(languages[0]):
            field = getattr(self, f"accepted_{languages[0]}")
            field.errors = [_l("Give at least one accepted answer in the course's first language.")]
            ok = False
        return ok

    @staticmethod
    def number(text: str | None) -> float | None:
        try:
            value = float((text or "").strip().replace(",", "."))
        except ValueError:
            return None
        return value if value == value and abs(value) != float("inf") else None

    def accepted(self, languages: list[str]) -> dict[str, list[str]]:
        found = {}
        for lang in languages:
            lines = [
                line.strip()
                for line in (getattr(self, f"accepted_{lang}").data or "").splitlines()
                if line.strip()
            ]
            if lines:
                found[lang] = lines
        return found


class NotebookForm(FlaskForm):
    notebook = FileField(
        _l("nbgrader source notebook (.ipynb)"),
        validators=[FileRequired(_l("Choose a notebook file."))],
    )


class AssignmentSettingsForm(FlaskForm):
    pass_score = fraction_field(_l("Pass score (fraction of the auto-graded points)"))
    max_attempts = attempts_field()

    def validate_pass_score(self, field: Any) -> None:
        _three_places(self, field)


class DataFileForm(FlaskForm):
    data_file = FileField(
        _l("Data file (.csv, .json, .txt, .png, .jpg, .gif)"),
        validators=[FileRequired(_l("Choose a file."))],
    )


class GradeForm(FlaskForm):
    score = DecimalField(
        _l("Score"),
        places=2,
        validators=[
            InputRequired(_l("Enter a score.")),
            NumberRange(min=0, message=_l("The score cannot be below 0.")),
        ],
    )
    comment = TextAreaField(
        _l("Comment for the learner"),
        validators=[Length(max=4000, message=_l("At most 4000 characters."))],
    )


class ZipForm(FlaskForm):
    package = FileField(
        _l("Course package (.zip)"), validators=[FileRequired(_l("Choose a zip file."))]
    )
