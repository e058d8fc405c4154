"""Forms of certificates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class RevokeForm(FlaskForm):
    """An admin revokes a certificate and says why (the verification page shows it)."""

    reason = TextAreaField(
        _l("Reason (shown on the verification page)"),
        validators=[
            DataRequired(message=_l("Give the reason for revoking.")),
            Length(max=500, message=_l("At most %(max)d characters.")),
        ],
    )
