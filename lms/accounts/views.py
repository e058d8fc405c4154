"""Register, log in and out, profile, forgotten password, and the admin's list of users."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, ngettext, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from lms import i18n
from lms.accounts import forms, mail, services
from lms.accounts.login import TOKEN_KEY, current_session_id, log_in, log_out
from lms.accounts.models import Role, User
from lms.db import db, utcnow
from lms.extensions import limiter, rate
from lms.paging import requested_page
from lms.security import roles_required

bp = Blueprint("accounts", __name__, template_folder="templates")

USERS_PER_PAGE = 25


@bp.before_app_request
def end_outdated_session() -> None:
    """A cookie whose session has ended (signed out, expired, ended from another device)
    is emptied: the visitor is signed out."""
    if (request.endpoint or "").rsplit(".", 1)[-1] == "static":
        return  # no account is loaded for stylesheets and scripts
    if not current_user.is_authenticated and "_user_id" in session:
        session.clear()


def load_user(user_id: str) -> User | None:
    """The signed-in account named by the cookie, when its session row is alive
    (Flask-Login's loader). The account, its roles and the session in one round trip."""
    token = session.get(TOKEN_KEY)
    if not user_id.isdigit() or not isinstance(token, str) or not token:
        return None
    now = utcnow()
    found = services.session_user(
        db.session(),
        user_id=int(user_id),
        token=token,
        policy=services.SessionPolicy.from_config(current_app.config),
        now=now,
    )
    if found is None:
        return None
    user, row = found
    g.oqu_session_id = row.id
    if services.needs_touch(row, now):
        _touch_later(row.id, now)
    return user


def _touch_later(session_id: int, now: Any) -> None:
    """Write the session's "last seen" once the answer is sent, in a transaction of its
    own: never inside a request's (a GET that wrote would take SQLite's write lock)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions["oqu.db"]["fixed"] is not None:  # the test suite's single session
        services.touch_session(db.session(), session_id=session_id, now=now)
        return
    g.oqu_touch = (session_id, now)


@bp.after_app_request
def touch_when_answered(response: Response) -> Response:
    pending = g.pop("oqu_touch", None)
    if pending is None:
        return response
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def touch() -> None:
        from sqlalchemy.orm import Session

        try:
            with Session(db.engine(app)) as dbs, dbs.begin():
                services.touch_session(dbs, session_id=pending[0], now=pending[1])
        except Exception:  # "last seen" is a courtesy: never an error for the visitor
            app.logger.warning("could not record when a session was last seen", exc_info=True)

    response.call_on_close(touch)
    return response


def _landing() -> str:
    endpoint = (
        "learning.dashboard" if "learning.dashboard" in current_app.view_functions else "main.home"
    )
    return url_for(endpoint)


def _sign_in(user: User, target: str | None) -> Response:
    log_in(user)
    db.session().commit()
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
        # The same answer, after the same work (a password hash), as for a new address:
        # the owner is told by mail, and nothing changes on their account.
        services.hash_password(form.password.data)
        existing = services.find_by_email(dbs, email=form.email.data)
        if existing is not None and existing.is_active:
            _mail_already_registered(existing)
        return redirect(url_for(".registered"))
    except services.InvalidProfile:
        flash(_("Some of the values are not accepted. Please check the form."), "error")
        return _register_page(form, 400)
    dbs.commit()
    _mail_welcome(user)
    return redirect(url_for(".registered"))


@bp.get("/register/sent")
def registered() -> Any:
    """What everyone who registers reads, whether or not the address was known."""
    return render_template("accounts/registered.html")


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@limiter.limit(rate("login"), methods=["POST"])
def sign_in_link(token: str) -> Any:
    """The welcome mail's sign-in link: a button (a mail scanner's GET signs no one in)."""
    dbs = db.session()
    user = services.user_for_sign_in_token(
        dbs, token=token, secret=current_app.config["SECRET_KEY"]
    )
    if user is None:
        return render_template("accounts/link_invalid.html"), 400
    form = forms.SessionActionForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/sign_in_link.html", form=form, token=token), status
    return _sign_in(user, None)


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
        dbs = db.session()
        key = _guard_key(form.email.data)
        blocked = services.blocked_for(dbs, key=key)
        if blocked:
            return _blocked_page(blocked, "accounts/login.html", form=form)
        user = services.authenticate(dbs, email=form.email.data, password=form.password.data)
        if user is not None:
            services.clear_failures(dbs, key=key)
            return _sign_in(user, form.next.data or request.args.get("next"))
        _count_failure(dbs, key, email=form.email.data)
        # Same words whether the address is unknown or the password wrong.
        flash(_("The e-mail address or the password is not right."), "error")
    return render_template("accounts/login.html", form=form), 400


def _guard_key(email: str) -> str:
    return services.guard_key(email, secret=str(current_app.config["SECRET_KEY"]))


def _count_failure(dbs: Any, key: str, *, email: str) -> None:
    """Count a wrong password (committed at once: the answer is a refusal); the owner of a
    registered address is told by mail when a burst of them starts a block."""
    failure = services.record_failure(dbs, key=key)
    owner = services.find_by_email(dbs, email=email) if failure.burst else None
    dbs.commit()
    if owner is not None and owner.is_active:
        _mail_failed_burst(owner, failure.blocked_seconds)


def _blocked_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many wrong passwords for this account. Try again in %(num)d minute, or "
        "reset the password by e-mail: that link always works.",
        "Too many wrong passwords for this account. Try again in %(num)d minutes, or "
        "reset the password by e-mail: that link always works.",
        minutes,
    )


def _blocked_page(seconds: int, template: str, **context: Any) -> Any:
    """429 with Retry-After: too many wrong passwords for this account, for now."""
    flash(_blocked_message(seconds), "error")
    response = current_app.make_response((render_template(template, **context), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.post("/logout")
def logout() -> Any:
    log_out()
    db.session().commit()
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
    sessions = services.active_sessions(
        db.session(), user=user, policy=services.SessionPolicy.from_config(current_app.config)
    )
    return render_template(
        "accounts/profile.html",
        user=user,
        form=profile_form,
        password_form=password_form or forms.PasswordChangeForm(prefix="pw", formdata=None),
        delete_form=delete_form or forms.DeleteAccountForm(prefix="del", formdata=None),
        has_iin=bool(user.person.iin_hash),
        sessions=sessions,
        current_session=current_session_id(),
        session_form=forms.SessionActionForm(formdata=None),
        device_name=services.device_name,
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
@limiter.limit(rate("profile"))
def change_password() -> Any:
    form = forms.PasswordChangeForm(prefix="pw")
    if not form.validate_on_submit():
        return _profile_page(password_form=form, status=400)
    dbs = db.session()
    user = current_user._get_current_object()
    key = _guard_key(user.email)
    blocked = services.blocked_for(dbs, key=key)
    if blocked:
        return _blocked_profile(blocked, password_form=form)
    try:
        # This session stays; every other session of the account ends.
        services.change_password(
            dbs,
            user=user,
            current=form.current_password.data,
            new=form.new_password.data,
            keep_session=current_session_id(),
        )
    except services.WrongPassword:
        _count_failure(dbs, key, email=user.email)
        form.current_password.errors.append(_("The current password is not right."))
        return _profile_page(password_form=form, status=400)
    except services.CommonPassword:
        form.new_password.errors.append(str(forms.COMMON_PASSWORD))
        return _profile_page(password_form=form, status=400)
    services.clear_failures(dbs, key=key)
    dbs.commit()
    flash(_("Your password is changed. You are signed out everywhere else."), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/delete")
@login_required
@limiter.limit(rate("profile"))
def delete_account() -> Any:
    form = forms.DeleteAccountForm(prefix="del")
    if not form.validate_on_submit():
        return _profile_page(delete_form=form, status=400)
    dbs = db.session()
    user = current_user._get_current_object()
    key = _guard_key(user.email)
    blocked = services.blocked_for(dbs, key=key)
    if blocked:
        return _blocked_profile(blocked, delete_form=form)
    try:
        services.delete_account(dbs, user=user, password=form.password.data)
    except services.WrongPassword:
        _count_failure(dbs, key, email=user.email)
        form.password.errors.append(_("The password is not right. Nothing was deleted."))
        return _profile_page(delete_form=form, status=400)
    services.clear_failures(dbs, key=key)
    dbs.commit()
    log_out()
    flash(_("Your account and your personal data are deleted."), "success")
    return redirect(url_for("main.home"))


def _blocked_profile(seconds: int, **forms_: Any) -> Any:
    """The profile page again, as a 429 with Retry-After."""
    flash(_blocked_message(seconds), "error")
    page, _status = _profile_page(**forms_)
    response = current_app.make_response((page, 429))
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.post("/profile/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> Any:
    """End one of the account's sessions (this one too: that is signing out)."""
    if not forms.SessionActionForm().validate_on_submit():
        abort(400)
    dbs = db.session()
    if session_id == current_session_id():
        log_out()
        dbs.commit()
        flash(_("You have logged out."), "success")
        return redirect(url_for("main.home"))
    if not services.end_session(
        dbs, user=current_user._get_current_object(), session_id=session_id
    ):
        abort(404)
    dbs.commit()
    flash(_("That session is ended: the device is signed out."), "success")
    return redirect(url_for(".profile", _anchor="sessions-heading"))


@bp.post("/profile/sessions/end-others")
@login_required
def end_other_sessions() -> Any:
    """Sign out everywhere but here."""
    if not forms.SessionActionForm().validate_on_submit():
        abort(400)
    dbs = db.session()
    services.end_sessions(dbs, user=current_user._get_current_object(), keep=current_session_id())
    dbs.commit()
    flash(_("You are signed out on every other device."), "success")
    return redirect(url_for(".profile", _anchor="sessions-heading"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(rate("password_reset"), methods=["POST"])
def forgot_password() -> Any:
    form = forms.ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/forgot.html", form=form), status
    user = services.find_by_email(db.session(), email=form.email.data)
    if user is not None and user.is_active:
        _mail_reset(user)
    # The same answer whether or not the address is registered.
    flash(
        _(
            "If this address is registered, we have sent a link to reset the password. "
            "It works for one hour."
        ),
        "success",
    )
    return redirect(url_for(".login"))


def _link(endpoint: str, **values: Any) -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)


def _reset_link(user: User) -> str:
    token = services.reset_token(user, secret=current_app.config["SECRET_KEY"])
    return _link(".reset_password", token=token)


def _mail_reset(user: User) -> None:
    link = _reset_link(user)
    with force_locale(user.locale):
        _mail_after_answer(
            user,
            _("Reset your Oqu password"),
            [
                _(
                    "Someone, probably you, asked to reset the password of your Oqu account. "
                    "To choose a new password, open this link within one hour:"
                ),
                link,
                _(
                    "If you did not ask for this, ignore this message: your password stays "
                    "as it is."
                ),
            ],
        )


def _mail_welcome(user: User) -> None:
    token = services.sign_in_token(user, secret=current_app.config["SECRET_KEY"])
    link = _link(".sign_in_link", token=token)
    with force_locale(user.locale):
        _mail_after_answer(
            user,
            _("Welcome to Oqu"),
            [
                _(
                    "Your Oqu account is ready. Log in with your e-mail address and the "
                    "password you chose, or open this link within a day to log in at once:"
                ),
                link,
                _("If you did not register on Oqu, ignore this message."),
            ],
        )


def _mail_already_registered(user: User) -> None:
    link = _reset_link(user)
    with force_locale(user.locale):
        _mail_after_answer(
            user,
            _("You already have an Oqu account"),
            [
                _(
                    "Someone, probably you, tried to register on Oqu with this e-mail "
                    "address. You already have an account, and nothing about it has "
                    "changed. Log in with your password; if you forgot it, open this link "
                    "within one hour to choose a new one:"
                ),
                link,
                _("If it was not you, ignore this message."),
            ],
        )


def _mail_failed_burst(user: User, seconds: int) -> None:
    link = _reset_link(user)
    minutes = max(1, (seconds + 59) // 60)
    with force_locale(user.locale):
        _mail_after_answer(
            user,
            _("Wrong passwords were tried on your Oqu account"),
            [
                ngettext(
                    "Someone gave a wrong password for your Oqu account many times in a "
                    "row, so checking the password is paused for %(num)d minute.",
                    "Someone gave a wrong password for your Oqu account many times in a "
                    "row, so checking the password is paused for %(num)d minutes.",
                    minutes,
                ),
                _(
                    "If it was you and you forgot the password, open this link within one "
                    "hour to choose a new one (it works even while checking is paused):"
                ),
                link,
                _(
                    "If it was not you, your account is safe as long as your password is "
                    "not used elsewhere."
                ),
            ],
        )


def _mail_after_answer(user: User, subject: str, paragraphs: list[str]) -> None:
    """Send ``user`` a message once the answer has gone out: how long the mail server
    takes must not tell a visitor whether the address is registered. Call inside
    ``force_locale(user.locale)``."""
    body = (
        "\n\n".join(
            [
                _("Hello, %(name)s.", name=user.full_name),
                *paragraphs,
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
            # The visitor got the same answer; the operator sees the failure in the log.
            logger.exception("could not send a mail: %s", subject)

    @after_this_request
    def send_when_answered(response: Response) -> Response:
        response.call_on_close(deliver)
        return response


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """Choose a new password from a mailed link. It works even while wrong passwords
    block the account (so a stranger cannot lock the owner out), and ends every session."""
    dbs = db.session()
    user = services.user_for_reset_token(dbs, token=token, secret=current_app.config["SECRET_KEY"])
    if user is None:
        return render_template("accounts/reset_invalid.html"), 400
    form = forms.ResetPasswordForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/reset.html", form=form, token=token), status
    services.set_password(dbs, user=user, password=form.password.data)
    services.clear_failures(dbs, key=_guard_key(user.email))
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
    # The account's sessions end (an admin changing their own roles keeps this one).
    keep = current_session_id() if user.id == current_user.id else None
    if form.action.data == "grant":
        services.grant_role(dbs, user=user, role=role, keep_session=keep)
        message = _("%(email)s now has the role %(role)s.", email=user.email, role=role_name)
    elif user.id == current_user.id and role == Role.ADMIN:
        flash(_("You cannot take the administrator role from yourself."), "error")
        return redirect(back)
    else:
        services.revoke_role(dbs, user=user, role=role, keep_session=keep)
        message = _("%(email)s no longer has the role %(role)s.", email=user.email, role=role_name)
    dbs.commit()
    flash(message, "success")
    return redirect(back)
