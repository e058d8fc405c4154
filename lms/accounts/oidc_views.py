"""Single sign-on pages: start, callback, first-time profile, linking, sign-in methods.

Authlib runs the authorization code flow: PKCE (S256), ``state`` and ``nonce`` kept in the
signed session cookie, the provider's metadata from discovery (its ``issuer`` must be the
configured one), the ID token's signature against the provider's published keys and its
claims (``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``at_hash``). ``lms.accounts.oidc``
then requires a verified e-mail and applies the rules of accounts and IINs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
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
from flask_login import current_user, login_required, login_user
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from lms import i18n
from lms.accounts import mail, oidc, oidc_forms, services, views
from lms.accounts.models import User
from lms.db import db
from lms.extensions import limiter, rate

bp = Blueprint("oidc", __name__, template_folder="templates")
log = logging.getLogger("lms.accounts.oidc")

EXTENSION = "oqu_oidc"
INTENT = "oqu_oidc_intent"  # the flow this browser started: provider, account to link, next
PENDING = "oqu_oidc_pending"  # a checked identity waiting for a profile or a proof
PENDING_MAX_AGE = 1800
SCOPE = "openid email profile"
HTTP_TIMEOUT = 10


def init_app(app: Flask) -> None:
    """Read ``OIDC_PROVIDERS`` (a clear error at start-up when it is wrong) and register."""
    providers = oidc.parse_providers(app.config.get("OIDC_PROVIDERS"))
    registry = OAuth()
    registry.init_app(app)
    for provider in providers:
        registry.register(
            name=provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": SCOPE,
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT,
            },
        )
    app.extensions[EXTENSION] = ({p.name: p for p in providers}, registry)
    app.register_blueprint(bp)


def _providers() -> dict[str, oidc.ProviderSettings]:
    providers: dict[str, oidc.ProviderSettings] = current_app.extensions[EXTENSION][0]
    return providers


def _provider(name: str) -> oidc.ProviderSettings:
    return _providers().get(name) or abort(404)


def _client(name: str) -> Any:
    return current_app.extensions[EXTENSION][1].create_client(name)


@bp.app_context_processor
def sign_in_buttons() -> dict[str, Any]:
    if EXTENSION not in current_app.extensions:
        return {"oidc_providers": []}
    locale = i18n.current_language()
    return {
        "oidc_providers": [
            {"name": p.name, "label": p.label(locale)} for p in _providers().values()
        ]
    }


def _sign_in(user: User) -> None:
    """Sign ``user`` in: the one place single sign-on starts a session (a fresh cookie:
    nothing set before it survives). Whatever it writes, the caller commits."""
    session.clear()
    login_user(user)
    session[views.SESSION_STAMP] = services.session_stamp(user)


def _signed_in(user: User, target: str | None, message: str | None = None) -> Response:
    _sign_in(user)
    db.session().commit()
    refresh()
    flash(message or _("Welcome, %(name)s.", name=user.full_name), "success")
    return i18n.remember_language(redirect(i18n.safe_next(target, views._landing())), user.locale)


REASONS = {
    "state": lambda label: _(
        "The answer from %(label)s does not belong to a sign-in started in this browser, "
        "so it was refused. Please start again from the login page.",
        label=label,
    ),
    "cancelled": lambda label: _("Signing in with %(label)s was cancelled.", label=label),
    "token": lambda label: _(
        "The answer from %(label)s could not be verified, so it was refused. Please try "
        "again; if this happens again, contact support.",
        label=label,
    ),
    "unreachable": lambda label: _(
        "%(label)s cannot be reached just now. Please try again later, or log in with your "
        "password.",
        label=label,
    ),
    "no_email": lambda label: _(
        "%(label)s did not give an e-mail address. Oqu needs one to sign you in.", label=label
    ),
    "email_unverified": lambda label: _(
        "%(label)s has not confirmed your e-mail address. Confirm it there, then try again.",
        label=label,
    ),
    "no_subject": lambda label: _(
        "The answer from %(label)s could not be verified, so it was refused. Please try "
        "again; if this happens again, contact support.",
        label=label,
    ),
    "iin": lambda label: _(
        "The IIN that %(label)s gives for you differs from the one on file for your Oqu "
        "account, so signing in is stopped. Please contact support.",
        label=label,
    ),
    "elsewhere": lambda label: _(
        "This %(label)s account is already connected to another Oqu account.", label=label
    ),
    "already": lambda label: _(
        "Your Oqu account is already connected to a %(label)s account.", label=label
    ),
    "inactive": lambda label: _("This Oqu account cannot sign in."),
    "expired": lambda label: _(
        "Signing in with %(label)s took too long. Please start again.", label=label
    ),
}


def _refused(provider: oidc.ProviderSettings, reason: str, status: int = 400) -> Any:
    label = provider.label(i18n.current_language())
    return render_template(
        "accounts/oidc/refused.html", label=label, message=REASONS[reason](label)
    ), status


def _callback_url(provider: oidc.ProviderSettings) -> str:
    # The address registered at the provider: LMS_BASE_URL, never the request's Host.
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(
        ".callback", name=provider.name
    )


def _authorize(provider: oidc.ProviderSettings, *, link_user: int | None, target: str) -> Any:
    client = _client(provider.name)
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        log.exception("OpenID provider %s: discovery failed", provider.name)
        return _refused(provider, "unreachable", 502)
    if metadata.get("issuer") != provider.issuer:
        log.error(
            "OpenID provider %s: discovery names the issuer %r, not the configured %r",
            provider.name,
            metadata.get("issuer"),
            provider.issuer,
        )
        client.server_metadata.pop("_loaded_at", None)
        return _refused(provider, "unreachable", 502)
    session[INTENT] = {"p": provider.name, "link": link_user, "next": target}
    return client.authorize_redirect(_callback_url(provider), ui_locales=i18n.current_language())


@bp.get("/login/oidc/<name>")
@limiter.limit(rate("login"))
def start(name: str) -> Any:
    provider = _provider(name)
    if current_user.is_authenticated:
        return redirect(views._landing())
    return _authorize(provider, link_user=None, target=i18n.safe_next(request.args.get("next"), ""))


@bp.get("/profile/sign-in-methods/<name>/connect")
@login_required
@limiter.limit(rate("login"))
def connect(name: str) -> Any:
    provider = _provider(name)
    return _authorize(provider, link_user=current_user.id, target=url_for(".connections"))


def _claims(client: Any, token: dict[str, Any]) -> dict[str, Any]:
    """The ID token's checked claims, completed from the UserInfo endpoint when the
    provider keeps the e-mail there (its ``sub`` must be the ID token's)."""
    claims = token.get("userinfo")
    if not claims:
        raise oidc.IdentityRefused("no_subject")  # no ID token: not OpenID Connect
    claims = dict(claims)
    if "email" not in claims or "email_verified" not in claims:
        extra = dict(client.userinfo(token=token))
        if extra.get("sub") != claims.get("sub"):
            raise oidc.IdentityRefused("no_subject")
        claims = {**extra, **claims}
    return claims


@bp.get("/login/oidc/<name>/callback")
def callback(name: str) -> Any:
    provider = _provider(name)
    if request.args.get("error"):
        return _refused(provider, "cancelled")
    # RFC 9207: a provider that names itself must name the one this flow went to.
    if request.args.get("iss", provider.issuer) != provider.issuer:
        return _refused(provider, "token")
    client = _client(name)
    try:
        token = client.authorize_access_token()
        identity = oidc.identity_from_claims(
            provider,
            _claims(client, token),
            iin_key=services.iin_key(current_app.config),
        )
    except MismatchingStateError:
        log.warning("OpenID provider %s: a callback with an unknown state", name)
        return _refused(provider, "state")
    except oidc.IdentityRefused as refusal:
        log.warning("OpenID provider %s: identity refused (%s)", name, refusal.reason)
        return _refused(provider, refusal.reason)
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError):
        log.warning("OpenID provider %s: the answer was refused", name, exc_info=True)
        return _refused(provider, "token")
    # Only the answer to this browser's own flow (its state matched) ends that flow.
    intent = session.pop(INTENT, None)
    if not isinstance(intent, dict) or intent.get("p") != name:
        intent = {}
    return _after_identity(provider, identity, intent)


def _after_identity(
    provider: oidc.ProviderSettings, identity: oidc.Identity, intent: dict[str, Any]
) -> Any:
    dbs = db.session()
    target = intent.get("next") or None
    if intent.get("link") is not None and current_user.is_authenticated:
        if intent["link"] != current_user.id:
            return _refused(provider, "state")
        return _connect_signed_in(provider, identity)
    row = oidc.find_link(dbs, provider=provider.name, subject=identity.subject)
    if row is not None:
        try:
            user = oidc.signed_in(dbs, link_row=row, identity=identity)
        except oidc.IinConflict:
            dbs.rollback()
            return _refused(provider, "iin", 403)
        except oidc.IdentityRefused:
            dbs.rollback()
            return _refused(provider, "inactive", 403)
        dbs.commit()
        return _signed_in(user, target)
    existing = services.find_by_email(dbs, email=identity.email)
    if existing is not None and not existing.is_active:
        return _refused(provider, "inactive", 403)
    session[PENDING] = {"identity": identity.as_dict(), "at": int(time.time()), "next": target}
    if existing is not None:
        return redirect(url_for(".link_existing"))
    return redirect(url_for(".first_profile"))


def _connect_signed_in(provider: oidc.ProviderSettings, identity: oidc.Identity) -> Any:
    dbs = db.session()
    user = current_user._get_current_object()
    try:
        oidc.link(dbs, user=user, identity=identity)
    except oidc.LinkedElsewhere:
        return _refused(provider, "elsewhere", 409)
    except oidc.AlreadyLinked:
        return _refused(provider, "already", 409)
    except oidc.IinConflict:
        dbs.rollback()
        return _refused(provider, "iin", 403)
    dbs.commit()
    label = provider.label(i18n.current_language())
    flash(_("%(label)s is connected to your account.", label=label), "success")
    return redirect(url_for(".connections"))


def _pending() -> tuple[oidc.ProviderSettings, oidc.Identity, str | None] | None:
    data = session.get(PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("at"), int):
        return None
    identity = oidc.Identity.from_dict(data.get("identity"))
    if identity is None or identity.provider not in _providers():
        return None
    if time.time() - data["at"] > PENDING_MAX_AGE:
        session.pop(PENDING, None)
        return None
    return _providers()[identity.provider], identity, data.get("next")


def _no_pending() -> Any:
    flash(_("Your sign-in has expired. Please start again."), "error")
    return redirect(url_for("accounts.login"))


@bp.route("/login/oidc/profile", methods=["GET", "POST"])
def first_profile() -> Any:
    pending = _pending()
    if pending is None:
        return _no_pending()
    provider, identity, target = pending
    form = oidc_forms.FirstProfileForm(
        ask_name=not identity.name, ask_iin=identity.iin_hash is None
    )
    if request.method == "GET":
        form.locale.data = i18n.current_language()
    label = provider.label(i18n.current_language())
    page = {"form": form, "label": label, "identity": identity}
    consent_version = current_app.config["CONSENT_VERSION"]
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template(
            "accounts/oidc/profile.html", consent_version=consent_version, **page
        ), status
    dbs = db.session()
    typed = (form.iin.data or "").strip() if "iin" in form else ""
    try:
        user = oidc.create_account(
            dbs,
            identity=identity,
            profile=form.first_profile(name=identity.name),
            consent_version=consent_version,
            typed_iin_hash=(
                services.iin_digest(typed, key=services.iin_key(current_app.config))
                if typed
                else None
            ),
        )
    except services.EmailTaken:
        dbs.rollback()
        return redirect(url_for(".link_existing"))
    except (services.InvalidProfile, ValueError):
        dbs.rollback()
        flash(_("Some of the values are not accepted. Please check the form."), "error")
        return render_template(
            "accounts/oidc/profile.html", consent_version=consent_version, **page
        ), 400
    except oidc.LinkedElsewhere:
        dbs.rollback()
        return _refused(provider, "elsewhere", 409)
    dbs.commit()
    return _signed_in(user, target)


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
    pending = _pending()
    if pending is None:
        return _no_pending()
    provider, identity, target = pending
    dbs = db.session()
    if services.find_by_email(dbs, email=identity.email) is None:
        return redirect(url_for(".first_profile"))
    form = oidc_forms.LinkPasswordForm()
    if request.method == "GET":
        return _link_page(provider, identity)
    if not form.validate_on_submit():
        return _link_page(provider, identity, form, 400)
    user = services.authenticate(dbs, email=identity.email, password=form.password.data)
    if user is None:
        form.password.errors.append(_("The password is not right."))
        return _link_page(provider, identity, form, 400)
    return _link_and_sign_in(provider, identity, user, target)


def _link_and_sign_in(
    provider: oidc.ProviderSettings, identity: oidc.Identity, user: User, target: str | None
) -> Any:
    dbs = db.session()
    try:
        oidc.link(dbs, user=user, identity=identity)
    except oidc.IinConflict:
        dbs.rollback()
        return _refused(provider, "iin", 403)
    except oidc.LinkedElsewhere:
        dbs.rollback()
        return _refused(provider, "elsewhere", 409)
    except oidc.AlreadyLinked:
        dbs.rollback()
        return _refused(provider, "already", 409)
    dbs.commit()
    label = provider.label(user.locale)
    with force_locale(user.locale):
        message = _("%(label)s is connected to your account.", label=label)
    return _signed_in(user, target, message)


@bp.post("/login/oidc/link/mail")
@limiter.limit(rate("password_reset"))
def link_by_mail() -> Any:
    pending = _pending()
    if pending is None:
        return _no_pending()
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
    if found is None or found[1].provider not in _providers():
        return render_template("accounts/oidc/link_invalid.html"), 400
    user, identity = found
    provider = _providers()[identity.provider]
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


@bp.get("/profile/sign-in-methods")
@login_required
def connections() -> Any:
    user = current_user._get_current_object()
    links = oidc.links_of(db.session(), user=user)
    locale = i18n.current_language()
    verified_by = user.person.iin_verified_by
    return render_template(
        "accounts/oidc/connections.html",
        providers=[(p, p.label(locale), links.get(p.name)) for p in _providers().values()],
        has_password=bool(user.password_hash),
        verified_label=(
            _providers()[verified_by].label(locale) if verified_by in _providers() else verified_by
        ),
        form=oidc_forms.ConfirmForm(formdata=None),
    )


@bp.post("/profile/sign-in-methods/<name>/unlink")
@login_required
def unlink(name: str) -> Any:
    provider = _provider(name)
    label = provider.label(i18n.current_language())
    form = oidc_forms.ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    dbs = db.session()
    try:
        done = oidc.unlink(dbs, user=current_user._get_current_object(), provider=name)
    except oidc.NoPassword:
        flash(
            _(
                "%(label)s is how you sign in: set a password first (“Forgot your password?” "
                "on the login page sends a link), then disconnect it.",
                label=label,
            ),
            "error",
        )
        return redirect(url_for(".connections"), 303)
    dbs.commit()
    if done:
        flash(_("%(label)s is disconnected from your account.", label=label), "success")
    return redirect(url_for(".connections"), 303)
