"""Single sign-on: connecting a provider to an account that already has its e-mail.

The owner proves the account is theirs with its password, or by a link mailed to its
address (a page with a button: mail scanners open links, they do not post).
"""

from __future__ import annotations

from typing import Any

from flask import after_this_request, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lms import i18n
from lms.accounts import mail, oidc, oidc_forms, services, views
from lms.accounts.models import User
from lms.accounts.oidc_views import (
    bp,
    no_pending,
    pending_identity,
    providers,
    refused,
    signed_in_response,
)
from lms.db import db
from lms.extensions import limiter, rate


def _link_page(
    provider: oidc.ProviderSettings,
    identity: oidc.Identity,
    form: oidc_forms.LinkPasswordForm | None = None,
    status: int = 200,
) -> Any:
    return render_template(
        "accounts/oidc/link.html",
        label=provider.label(i18n.current_language()),
        identity=identity,
        form=form or oidc_forms.LinkPasswordForm(formdata=None),
        mail_form=oidc_forms.ConfirmForm(prefix="mail", formdata=None),
    ), status


@bp.route("/login/oidc/link", methods=["GET", "POST"])
@limiter.limit(rate("login"), methods=["POST"])
def link_existing() -> Any:
    """An account with the provider's e-mail exists: its owner proves it is theirs."""
    pending = pending_identity()
    if pending is None:
        return no_pending()
    provider, identity, target = pending
    dbs = db.session()
    if services.find_by_email(dbs, email=identity.email) is None:
        return redirect(url_for(".first_profile"))
    form = oidc_forms.LinkPasswordForm()
    if request.method == "GET":
        return _link_page(provider, identity)
    if not form.validate_on_submit():
        return _link_page(provider, identity, form, 400)
    # Wrong passwords here count with the login page's, per account (lms/accounts/views.py).
    key = views._guard_key(identity.email)
    blocked = services.blocked_for(dbs, key=key)
    if blocked:
        form.password.errors.append(views._blocked_message(blocked))
        response = current_app.make_response(_link_page(provider, identity, form, 429))
        response.headers["Retry-After"] = str(blocked)
        return response
    user = services.authenticate(dbs, email=identity.email, password=form.password.data)
    if user is None:
        views._count_failure(dbs, key, email=identity.email)
        form.password.errors.append(_("The password is not right."))
        return _link_page(provider, identity, form, 400)
    services.clear_failures(dbs, key=key)
    return _link_and_sign_in(provider, identity, user, target)


def _link_and_sign_in(
    provider: oidc.ProviderSettings, identity: oidc.Identity, user: User, target: str | None
) -> Any:
    dbs = db.session()
    try:
        oidc.link(dbs, user=user, identity=identity)
    except oidc.IinConflict:
        dbs.rollback()
        return refused(provider, "iin", 403)
    except oidc.LinkedElsewhere:
        dbs.rollback()
        return refused(provider, "elsewhere", 409)
    except oidc.AlreadyLinked:
        dbs.rollback()
        return refused(provider, "already", 409)
    dbs.commit()
    label = provider.label(user.locale)
    with force_locale(user.locale):
        message = _("%(label)s is connected to your account.", label=label)
    return signed_in_response(user, target, message)


@bp.post("/login/oidc/link/mail")
@limiter.limit(rate("password_reset"))
def link_by_mail() -> Any:
    pending = pending_identity()
    if pending is None:
        return no_pending()
    provider, identity, _target = pending
    form = oidc_forms.ConfirmForm(prefix="mail")
    if not form.validate_on_submit():
        return _link_page(provider, identity, status=400)
    user = services.find_by_email(db.session(), email=identity.email)
    if user is None or not user.is_active:
        return redirect(url_for(".first_profile"))
    _send_link_mail(provider, identity, user)
    return render_template(
        "accounts/oidc/mail_sent.html",
        label=provider.label(i18n.current_language()),
        email=user.email,
    )


def _send_link_mail(provider: oidc.ProviderSettings, identity: oidc.Identity, user: User) -> None:
    token = oidc.link_token(user, identity, secret=current_app.config["SECRET_KEY"])
    link = current_app.config["BASE_URL"].rstrip("/") + url_for(".confirm_link", token=token)
    with force_locale(user.locale):
        label = provider.label(user.locale)
        subject = _("Connect %(label)s to your Oqu account", label=label)
        body = (
            "\n\n".join(
                [
                    _("Hello, %(name)s.", name=user.full_name),
                    _(
                        "Someone, probably you, signed in with %(label)s and asked to connect "
                        "it to your Oqu account. To connect it, open this link within one "
                        "hour:",
                        label=label,
                    ),
                    link,
                    _("If you did not ask for this, ignore this message: nothing changes."),
                    _("Oqu, Kazakhstan's national platform for AI skills"),
                ]
            )
            + "\n"
        )
    config, logger, to = dict(current_app.config), current_app.logger, user.email

    def deliver() -> None:
        try:
            mail.send(config, to=to, subject=subject, body=body)
        except OSError:
            logger.exception("could not send the single sign-on link mail")

    @after_this_request
    def send_when_answered(response: Response) -> Response:
        response.call_on_close(deliver)
        return response


@bp.route("/login/oidc/link/<token>", methods=["GET", "POST"])
def confirm_link(token: str) -> Any:
    """The mailed link: a page with a button (mail scanners open links; they do not post)."""
    dbs = db.session()
    found = oidc.read_link_token(dbs, token=token, secret=current_app.config["SECRET_KEY"])
    if found is None or found[1].provider not in providers():
        return render_template("accounts/oidc/link_invalid.html"), 400
    user, identity = found
    provider = providers()[identity.provider]
    form = oidc_forms.ConfirmForm()
    if not form.validate_on_submit():
        return render_template(
            "accounts/oidc/confirm.html",
            form=form,
            token=token,
            label=provider.label(i18n.current_language()),
            identity=identity,
            account=user.email,
        ), (400 if request.method == "POST" else 200)
    return _link_and_sign_in(provider, identity, user, None)
