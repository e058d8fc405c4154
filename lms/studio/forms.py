"""The studio's forms. Every rule is checked on the server; messages say what to fix."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
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

from lms.courses import kinds
from lms.courses.kinds import QuestionKind
from lms.courses.kinds.editing import require_first, texts
from lms.courses.models import Reveal
from lms.i18n import LANGUAGE_NAMES, LANGUAGES
from lms.numbers import AMBIGUOUS, NumberField
from lms.reference import sectors

__all__ = ["require_first", "texts"]

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


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


def fraction_field(label: Any) -> NumberField:
    return NumberField(
        label,
        places=3,
        validators=[
            InputRequired(_l("Enter a number between 0 and 1.")),
            NumberRange(min=0.001, max=1, message=_l("Enter a number above 0 and at most 1.")),
        ],
        invalid_message=_l("Enter a number between 0 and 1."),
        ambiguous_message=AMBIGUOUS,
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
    retry_hours = IntegerField(
        _l("Hours before a new round of attempts opens, once a round is used up"),
        default=24,
        validators=[
            Optional(),
            NumberRange(min=1, max=8760, message=_l("Enter a whole number of hours from 1.")),
        ],
    )
    reveal = SelectField(
        _l("Show marks, explanations and right answers"),
        default=str(Reveal.ALWAYS),
        choices=[
            SelectChoice(str(Reveal.ALWAYS), _l("After every attempt")),
            SelectChoice(
                str(Reveal.AFTER_PASS_OR_LAST_ATTEMPT),
                _l("Only after a pass or the last attempt of a round"),
            ),
        ],
    )
    exercise = BooleanField(_l("A hands-on exercise that needs no code"))

    def validate_pass_mark(self, field: Any) -> None:
        _three_places(self, field)


class QuestionForm(FlaskForm):
    """The fields every question has; ``question_form`` adds its kind's editor fields."""

    kind = SelectField(_l("Kind of question"), choices=[])
    points = NumberField(
        _l("Points"),
        default=1,
        places=2,
        validators=[
            InputRequired(_l("Enter the points.")),
            NumberRange(min=0.01, max=9999, message=_l("Enter points from 0.01 to 9999.")),
        ],
        invalid_message=_l("Enter points from 0.01 to 9999."),
        ambiguous_message=AMBIGUOUS,
    )
    scenario = BooleanField(
        _l("A scenario: the learner judges a situation rather than recalls a term")
    )
    prompt_kk = TextAreaField(_l("Question in Kazakh"))
    prompt_ru = TextAreaField(_l("Question in Russian"))
    prompt_en = TextAreaField(_l("Question in English"))
    explanation_kk = TextAreaField(_l("Explanation in Kazakh"))
    explanation_ru = TextAreaField(_l("Explanation in Russian"))
    explanation_en = TextAreaField(_l("Explanation in English"))

    kind_of: QuestionKind

    def check(self, languages: list[str]) -> bool:
        """The common rules and those of the question's kind, for a course in ``languages``."""
        ok = self.validate()
        ok = require_first(self, "prompt", languages) and ok
        return self.kind_of.check_editor(self, languages) and ok


def question_form(kind: QuestionKind, **kwargs: Any) -> QuestionForm:
    """The editor of a question of ``kind``: the common fields and the kind's own."""
    cls = _form_classes.get(kind.name)
    if cls is None:
        cls = _form_classes[kind.name] = type(
            f"{kind.name.title()}QuestionForm", (QuestionForm, kind.editor), {"kind_of": kind}
        )
    form = cls(**kwargs)
    form.kind.choices = [SelectChoice(k.name, k.label) for k in kinds.all_kinds()]
    return form


_form_classes: dict[str, type[QuestionForm]] = {}


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
    score = NumberField(
        _l("Score"),
        places=2,
        invalid_message=_l("Enter a score."),
        ambiguous_message=AMBIGUOUS,
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
