"""Forms of single sign-on: the first-time profile, the password that proves an account."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from lms.accounts import forms, services
from lms.accounts.models import Sex


class FirstProfileForm(forms.ProfileFields):
    """What the platform needs and the provider did not give: registration's own fields,
    validators and consent, less the name and the IIN when the provider gave them."""

    consent = forms.RegistrationForm.consent

    def __init__(self, *args: Any, ask_name: bool, ask_iin: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not ask_name:
            del self.full_name
        if not ask_iin:
            del self.iin

    def first_profile(self, *, name: str) -> services.Profile:
        full_name = self.full_name.data if "full_name" in self else name
        return services.Profile(
            full_name=full_name or "",
            region=self.region.data,
            sector=self.sector.data,
            birth_year=int(self.birth_year.data or 0),
            sex=Sex(self.sex.data),
            locale=self.locale.data,
        )


class LinkPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("This field is required.")),
            Length(max=services.MAX_PASSWORD_LENGTH, message=_l("The password is too long.")),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token."""
