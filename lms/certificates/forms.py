"""Forms of certificates."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from lms.certificates.models import ADMIN_KINDS, RevocationKind

ADMIN_KIND_LABELS = {
    RevocationKind.ISSUED_IN_ERROR: _l("Issued in error"),
    RevocationKind.FRAUD: _l("Fraud"),
}


class RevokeForm(FlaskForm):
    """An admin revokes a certificate: why, from the fixed list (the verification page shows
    it, translated), and a note of their own that stays inside the platform."""

    kind = SelectField(
        _l("Reason (shown on the verification page)"),
        validators=[InputRequired(message=_l("Choose the reason for revoking."))],
    )
    note = TextAreaField(
        _l("Note for administrators (never shown to the public)"),
        validators=[Optional(), Length(max=500, message=_l("At most %(max)d characters."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(str(kind), str(ADMIN_KIND_LABELS[kind])) for kind in ADMIN_KINDS]


class ReissueForm(FlaskForm):
    """The holder asks for their certificate under their current name (only a CSRF token)."""
