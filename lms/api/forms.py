"""Forms of the API token admin page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    """A token for the account with this e-mail (an analyst or admin)."""

    email = StringField(validators=[DataRequired(), Length(max=254)])


class RevokeForm(FlaskForm):
    """Revoke a token (the CSRF token is the whole form)."""
