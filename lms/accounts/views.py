"""Register, log in and out, profile, forgotten password, and the admin's list of users."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from lms import i18n
from lms.accounts import forms, mail, services
from lms.accounts.models import Role, User
from lms.db import db
from lms.extensions import limiter, rate
from lms.paging import requested_page
from lms.security import roles_required

bp = Blueprint("accounts", __name__, template_folder="templates")

USERS_PER_PAGE = 25
SESSION_STAMP = "oqu_pw"


@bp.before_app_request
def end_outdated_session() -> None:
    """Log out a session opened before the account's password last changed."""
    if (request.endpoint or "").rsplit(".", 1)[-1] == "static":
        return  # no account is loaded for stylesheets and scripts
    if current_user.is_authenticated and session.get(SESSION_STAMP) != services.session_stamp(
        current_user._get_current_object()
    ):
        logout_user()
        session.clear()


def load_user(user_id: str) -> User | None:
    """The signed-in account named by the session, with its roles (Flask-Login's loader)."""
    if not user_id.isdigit():
        return None
    # The account and its roles in one round trip: every page asks for the roles.
    user = db.session().get(User, int(user_id), options=[joinedload(User.role_rows)])
    return user if user is not None and user.is_active else None


def _landing() -> str:
    endpoint = (
        "learning.dashboard" if "learning.dashboard" in current_app.view_functions else "main.home"
    )
    return url_for(endpoint)


def _sign_in(user: User, target: str | None) -> Response:
    # A fresh session at sign-in: nothing set before it (fixation) survives.
    session.clear()
    login_user(user)
    session[SESSION_STAMP] = services.session_stamp(user)
    refresh()
    flash(_("Welcome, %(name)s.", name=user.full_name), "success")
    return i18n.remember_language(redirect(i18n.safe_next(target, _landing())), user.locale)


def _iin_hash(value: str | None) -> str | None:
    value = (value or "").strip()
    return services.iin_digest(value, key=services.iin_key(current_app.config)) if value else None


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(rate("register"), methods=["POST"])
def register() -> Any:
    if current_user.is_authenticated:
        return redirect(_landing())
    form = forms.RegistrationForm()
    if request.method == "GET":
        form.locale.data = i18n.current_language()
    if not form.validate_on_submit():
        return _register_page(form, 400 if request.method == "POST" else 200)
    dbs = db.session()
    try:
        user = services.register(
            dbs,
            email=form.email.data,
            password=form.password.data,
            profile=form.profile(),
            consent_version=current_app.config["CONSENT_VERSION"],
            iin_hash=_iin_hash(form.iin.data),
        )
    except services.EmailTaken:
        form.email.errors.append(
            _(
                "This e-mail address is already registered. Log in, or "
                "reset your password if you forgot it."
            )
        )
        return _register_page(form, 400)
    except services.InvalidProfile:
        flash(_("Some of the values are not accepted. Please check the form."), "error")
        return _register_page(form, 400)
    dbs.commit()
    return _sign_in(user, request.args.get("next"))


def _register_page(form: forms.RegistrationForm, status: int) -> Any:
    return render_template(
        "accounts/register.html", form=form, consent_version=current_app.config["CONSENT_VERSION"]
    ), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(rate("login"), methods=["POST"])
def login() -> Any:
    form = forms.LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(i18n.safe_next(request.args.get("next"), _landing()))
        form.next.data = i18n.safe_next(request.args.get("next"), "")
        return render_template("accounts/login.html", form=form)
    if form.validate_on_submit():
        user = services.authenticate(
            db.session(), email=form.email.data, password=form.password.data
        )
        if user is not None:
            return _sign_in(user, form.next.data or request.args.get("next"))
        # Same words whether the address is unknown or the password wrong.
        flash(_("The e-mail address or the password is not right."), "error")
    return render_template("accounts/login.html", form=form), 400


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    session.clear()
    flash(_("You have logged out."), "success")
    response = redirect(url_for("main.home"))
    # Shared computers: whatever the site kept in this browser (the workspace's copies of
    # drafts not yet saved) goes with the session.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


def _profile_page(
    profile_form: forms.ProfileForm | None = None,
    password_form: forms.PasswordChangeForm | None = None,
    delete_form: forms.DeleteAccountForm | None = None,
    status: int = 200,
) -> Any:
    user = current_user._get_current_object()
    if profile_form is None:
        profile_form = forms.ProfileForm(obj=user, formdata=None)
        profile_form.sex.data = str(user.sex)
        profile_form.iin.data = ""
    return render_template(
        "accounts/profile.html",
        user=user,
        form=profile_form,
        password_form=password_form or forms.PasswordChangeForm(prefix="pw", formdata=None),
        delete_form=delete_form or forms.DeleteAccountForm(prefix="del", formdata=None),
        has_iin=bool(user.person.iin_hash),
    ), status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@limiter.limit(rate("profile"), methods=["POST"])
def profile() -> Any:
    if request.method == "GET":
        return _profile_page()
    form = forms.ProfileForm()
    if not form.validate_on_submit():
        return _profile_page(profile_form=form, status=400)
    dbs = db.session()
    user = current_user._get_current_object()
    digest = _iin_hash(form.iin.data)
    try:
        if digest is not None:
            # The same answer whether or not the IIN joined another account's person.
            services.set_iin(dbs, user=user, iin_hash=digest)
        services.update_profile(dbs, user=user, profile=form.profile())
    except services.IinOnFile:
        dbs.rollback()
        form.iin.errors = [_("This account already has an IIN; it cannot be changed.")]
        return _profile_page(profile_form=form, status=400)
    except services.InvalidProfile:
        dbs.rollback()
        flash(_("Some of the values are not accepted. Please check the form."), "error")
        return _profile_page(profile_form=form, status=400)
    dbs.commit()
    refresh()
    flash(_("Your profile is saved."), "success")
    return i18n.remember_language(redirect(url_for(".profile")), user.locale)


@bp.post("/profile/password")
@login_required
def change_password() -> Any:
    form = forms.PasswordChangeForm(prefix="pw")
    if not form.validate_on_submit():
        return _profile_page(password_form=form, status=400)
    dbs = db.session()
    try:
        services.change_password(
            dbs,
            user=current_user._get_current_object(),
            current=form.current_password.data,
            new=form.new_password.data,
        )
    except services.WrongPassword:
        form.current_password.errors.append(_("The current password is not right."))
        return _profile_page(password_form=form, status=400)
    dbs.commit()
    # This session stays; every other session of the account ends.
    session[SESSION_STAMP] = services.session_stamp(current_user._get_current_object())
    flash(_("Your password is changed."), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/delete")
@login_required
def delete_account() -> Any:
    form = forms.DeleteAccountForm(prefix="del")
    if not form.validate_on_submit():
        return _profile_page(delete_form=form, status=400)
    dbs = db.session()
    user = current_user._get_current_object()
    try:
        services.delete_account(dbs, user=user, password=form.password.data)
    except services.WrongPassword:
        form.password.errors.append(_("The password is not right. Nothing was deleted."))
        return _profile_page(delete_form=form, status=400)
    dbs.commit()
    logout_user()
    session.clear()
    flash(_("Your account and your personal data are deleted."), "success")
    return redirect(url_for("main.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(rate("password_reset"), methods=["POST"])
def forgot_password() -> Any:
    form = forms.ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/forgot.html", form=form), status
    user = services.find_by_email(db.session(), email=form.email.data)
    if user is not None and user.is_active:
        _send_reset_mail(user)
    # The same answer whether or not the address is registered.
    flash(
        _(
            "If this address is registered, we have sent a link to reset the password. "
            "It works for one hour."
        ),
        "success",
    )
    return redirect(url_for(".login"))


def _send_reset_mail(user: User) -> None:
    token = services.reset_token(user, secret=current_app.config["SECRET_KEY"])
    link = current_app.config["BASE_URL"].rstrip("/") + url_for(".reset_password", token=token)
    with force_locale(user.locale):
        subject = _("Reset your Oqu password")
        body = (
            "\n\n".join(
                [
                    _("Hello, %(name)s.", name=user.full_name),
                    _(
                        "Someone, probably you, asked to reset the password of your Oqu account. "
                        "To choose a new password, open this link within one hour:"
                    ),
                    link,
                    _(
                        "If you did not ask for this, ignore this message: your password stays "
                        "as it is."
                    ),
                    _("Oqu, Kazakhstan's national platform for AI skills"),
                ]
            )
            + "\n"
        )
    # Sent once the answer has gone out: how long the mail server takes must not tell a
    # visitor whether the address is registered.
    config, logger, to = dict(current_app.config), current_app.logger, user.email

    def deliver() -> None:
        try:
            mail.send(config, to=to, subject=subject, body=body)
        except OSError:
            # The visitor got the same answer; the operator sees the failure in the log.
            logger.exception("could not send the password reset mail")

    @after_this_request
    def send_when_answered(response: Response) -> Response:
        response.call_on_close(deliver)
        return response


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    dbs = db.session()
    user = services.user_for_reset_token(dbs, token=token, secret=current_app.config["SECRET_KEY"])
    if user is None:
        return render_template("accounts/reset_invalid.html"), 400
    form = forms.ResetPasswordForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/reset.html", form=form, token=token), status
    services.set_password(dbs, user=user, password=form.password.data)
    dbs.commit()
    flash(_("Your password is changed. You can log in now."), "success")
    return redirect(url_for(".login"))


@bp.get("/admin/users")
@roles_required("admin")
def admin_users() -> Any:
    query = request.args.get("q", "")[:254]
    users = services.search_users(
        db.session(), query=query, page=requested_page(), per_page=USERS_PER_PAGE
    )
    return render_template(
        "accounts/admin_users.html", users=users, query=query, role_names=dict(forms.role_choices())
    )


@bp.post("/admin/users/<int:user_id>/roles")
@roles_required("admin")
def admin_user_role(user_id: int) -> Any:
    dbs = db.session()
    user = dbs.get(User, user_id) or abort(404)
    form = forms.RoleForm()
    back = i18n.safe_next(request.form.get("next"), url_for(".admin_users"))
    if not form.validate_on_submit():
        flash(_("Please choose a role from the list."), "error")
        return redirect(back)
    role = Role(form.role.data)
    role_name = dict(forms.role_choices())[role.value]
    if form.action.data == "grant":
        services.grant_role(dbs, user=user, role=role)
        message = _("%(email)s now has the role %(role)s.", email=user.email, role=role_name)
    elif user.id == current_user.id and role == Role.ADMIN:
        flash(_("You cannot take the administrator role from yourself."), "error")
        return redirect(back)
    else:
        services.revoke_role(dbs, user=user, role=role)
        message = _("%(email)s no longer has the role %(role)s.", email=user.email, role=role_name)
    dbs.commit()
    flash(message, "success")
    return redirect(back)
