"""Admin pages for API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.api import services
from lms.api.forms import RevokeForm, TokenForm
from lms.api.models import ApiToken
from lms.db import db
from lms.security import roles_required

bp = Blueprint("api_admin", __name__, template_folder="templates")


@bp.route("/admin/tokens", methods=["GET", "POST"])
@roles_required("admin")
def tokens() -> Any:
    session = db.session()
    secret = None
    email = ""
    form = TokenForm()
    if request.method == "POST":
        email = (form.email.data or "").strip()
        if not form.validate_on_submit():
            flash(_("Tokens can be created only for analyst or admin accounts."), "error")
            return render_template(
                "api/tokens.html", tokens=services.tokens(session), secret=None, email=email
            ), 400
        user = services.find_account(session, email=email)
        try:
            if user is None:
                raise services.NotAllowed(email)
            created = services.create_token(session, user=user, created_by=current_user)
        except services.NotAllowed:
            flash(_("Tokens can be created only for analyst or admin accounts."), "error")
            return render_template(
                "api/tokens.html", tokens=services.tokens(session), secret=None, email=email
            ), 400
        session.commit()
        secret = created.secret
    response = render_template(
        "api/tokens.html", tokens=services.tokens(session), secret=secret, email=email
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/admin/tokens/<int:token_id>/revoke")
@roles_required("admin")
def revoke(token_id: int) -> Any:
    session = db.session()
    token = session.get(ApiToken, token_id) or abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    services.revoke_token(session, token=token)
    session.commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for(".tokens"))
