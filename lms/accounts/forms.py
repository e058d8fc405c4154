"""Forms of accounts. Choices are built per request, in the UI language."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from lms import reference
from lms.accounts import passwords, services
from lms.accounts.models import Role, Sex
from lms.i18n import LANGUAGE_NAMES, current_language


def _required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


def _password_length() -> Length:
    return Length(
        min=services.MIN_PASSWORD_LENGTH,
        max=services.MAX_PASSWORD_LENGTH,
        message=_l(
            "The password must have at least %(n)s characters.", n=services.MIN_PASSWORD_LENGTH
        ),
    )


COMMON_PASSWORD = _l(
    "This password is too easy to guess: it is among the most common passwords, or a "
    "repeated character, a sequence or a keyboard run. A few words you will remember "
    "make a better password."
)


def not_common(form: FlaskForm, field: Any) -> None:
    """Refuse a password among the common ones (only once it has the length)."""
    value = field.data or ""
    if len(value) >= services.MIN_PASSWORD_LENGTH and passwords.is_common(value):
        raise ValidationError(str(COMMON_PASSWORD))


class ChoiceIn:
    """Accept only one of the field's own choices; a tampered value gets a clear error."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Any) -> None:
        allowed = {str(value) for value, _label in field.choices}
        if str(field.data) not in allowed:
            raise ValidationError(self.message)


def _birth_year_in_range(_form: FlaskForm, field: Any) -> None:
    if field.data is None:
        return
    latest = services.latest_birth_year(date.today().year)
    if field.data > date.today().year:
        raise ValidationError(_l("The year of birth cannot be in the future."))
    if field.data > latest:
        raise ValidationError(
            _l(
                "You must be at least 14 years old to register (born in %(year)s or earlier).",
                year=latest,
            )
        )
    if field.data < services.EARLIEST_BIRTH_YEAR:
        raise ValidationError(_l("Please enter a year of birth from 1900 on."))


def _iin_valid(_form: FlaskForm, field: Any) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        raise ValidationError(_l("The IIN has exactly 12 digits."))
    if not reference.iin_is_valid(value):
        raise ValidationError(
            _l("This IIN is not valid: its check digit does not match. Please check the number.")
        )


# Alphabetical order as readers of each language expect it (Python's order puts Kazakh
# letters such as Қ after Я).
_ALPHABETS = {
    "kk": "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
}


def _collation_key(text: str, locale: str) -> list[tuple[int, str]]:
    alphabet = _ALPHABETS.get(locale, "")
    return [
        (alphabet.find(ch) if ch in alphabet else len(alphabet) + ord(ch), ch)
        for ch in text.lower()
    ]


class YearField(IntegerField):
    """A year typed as digits; anything else gets a message in the UI language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not raw:
            return
        if not raw.isascii() or not raw.isdigit() or len(raw) > 4:
            raise ValueError(_l("Please enter the year as four digits, for example 1990."))
        self.data = int(raw)


def region_choices() -> list[tuple[str, str]]:
    locale = current_language()
    names = [(r.code, r.name(locale)) for r in reference.regions()]
    return sorted(names, key=lambda choice: _collation_key(choice[1], locale))


def sector_choices() -> list[tuple[str, str]]:
    locale = current_language()
    return [(s.code, f"{s.code} · {s.name(locale)}") for s in reference.sectors()] + [
        (reference.NO_SECTOR, str(_l("Not employed / studying / retired")))
    ]


def sex_choices() -> list[tuple[str, str]]:
    return [
        (Sex.FEMALE.value, str(_l("Female"))),
        (Sex.MALE.value, str(_l("Male"))),
        (Sex.NOT_STATED.value, str(_l("Prefer not to say"))),
    ]


def locale_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES[code]) for code in services.LOCALES]


class ProfileFields(FlaskForm):
    """What registration and the profile page share."""

    full_name = StringField(
        _l("Full name"),
        validators=[
            _required(),
            Length(max=200, message=_l("The name can have at most 200 characters.")),
        ],
    )
    region = SelectField(
        _l("Region"),
        validate_choice=False,
        validators=[ChoiceIn(_l("Please choose a region from the list."))],
    )
    sector = SelectField(
        _l("Economic sector of your work"),
        validate_choice=False,
        validators=[ChoiceIn(_l("Please choose a sector from the list."))],
    )
    birth_year = YearField(
        _l("Year of birth"),
        validators=[
            InputRequired(message=_l("Please enter your year of birth, for example 1990.")),
            _birth_year_in_range,
        ],
    )
    sex = RadioField(
        _l("Sex"),
        validate_choice=False,
        default=Sex.NOT_STATED.value,
        validators=[ChoiceIn(_l("Please choose one of the options."))],
    )
    locale = SelectField(
        _l("Preferred language"),
        validate_choice=False,
        validators=[ChoiceIn(_l("Please choose a language from the list."))],
    )
    iin = StringField(
        _l("IIN (optional)"),
        validators=[
            Optional(),
            Length(max=20, message=_l("The IIN has exactly 12 digits.")),
            _iin_valid,
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = region_choices()
        self.sector.choices = sector_choices()
        self.sex.choices = sex_choices()
        self.locale.choices = locale_choices()

    def profile(self) -> services.Profile:
        return services.Profile(
            full_name=self.full_name.data or "",
            region=self.region.data,
            sector=self.sector.data,
            birth_year=int(self.birth_year.data or 0),
            sex=Sex(self.sex.data),
            locale=self.locale.data,
        )


class RegistrationForm(ProfileFields):
    email = EmailField(
        _l("E-mail"),
        validators=[
            _required(),
            Length(max=254, message=_l("The e-mail address is too long.")),
            Email(message=_l("Please enter a valid e-mail address.")),
        ],
    )
    password = PasswordField(
        _l("Password"), validators=[_required(), _password_length(), not_common]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            _required(),
            EqualTo("password", message=_l("The two passwords do not match.")),
        ],
    )
    consent = BooleanField(
        _l("I agree to the processing of my personal data as described above."),
        validators=[
            DataRequired(
                message=_l("Registration needs your consent to the processing of personal data.")
            )
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The error summary lists fields in the order the page shows them.
        first = ("email", "password", "confirm")
        fields: dict[str, Any] = self.__dict__["_fields"]
        self.__dict__["_fields"] = {
            **{name: fields[name] for name in first},
            **{k: v for k, v in fields.items() if k not in first},
        }


class ProfileForm(ProfileFields):
    pass


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[_required(), Length(max=254, message=_l("The e-mail address is too long."))],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            _required(),
            Length(max=services.MAX_PASSWORD_LENGTH, message=_l("The password is too long.")),
        ],
    )
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required()])
    new_password = PasswordField(
        _l("New password"), validators=[_required(), _password_length(), not_common]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            _required(),
            EqualTo("new_password", message=_l("The two passwords do not match.")),
        ],
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password, to confirm"), validators=[_required()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            _required(),
            Length(max=254, message=_l("The e-mail address is too long.")),
            Email(message=_l("Please enter a valid e-mail address.")),
        ],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[_required(), _password_length(), not_common]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            _required(),
            EqualTo("password", message=_l("The two passwords do not match.")),
        ],
    )


def role_choices() -> list[tuple[str, str]]:
    names = {
        Role.INSTRUCTOR: _l("Instructor"),
        Role.ANALYST: _l("Analyst"),
        Role.ADMIN: _l("Administrator"),
    }
    return [(role.value, str(label)) for role, label in names.items()]


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        validate_choice=False,
        validators=[ChoiceIn(_l("Please choose a role from the list."))],
    )
    action = HiddenField(validators=[ChoiceIn(_l("Unknown action."))])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.action.choices = [("grant", "grant"), ("revoke", "revoke")]


class SessionActionForm(FlaskForm):
    """Ending one session, or every other session ("sign out everywhere"): the CSRF token
    is the whole form."""
