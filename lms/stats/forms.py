"""Forms of the statistics admin pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class AnnulForm(FlaskForm):
    """An admin annuls a completion, giving a reason (kept with the correction)."""

    reason = StringField(validators=[DataRequired(), Length(max=400)])
