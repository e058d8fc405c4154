"""Forms of notebook assignments: the upload, and the instructor's regrade buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    """A solved notebook (.ipynb); the service checks it really is one."""

    notebook = FileField(
        _l("Your solved notebook (.ipynb)"),
        validators=[FileRequired(_l("Choose a notebook file to upload."))],
    )


class RegradeForm(FlaskForm):
    """A CSRF-protected button: grade again."""
