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
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from lms import i18n
from lms.accounts import oidc, oidc_forms, services, views
from lms.accounts.login import log_in
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
    configured = oidc.parse_providers(app.config.get("OIDC_PROVIDERS"))
    registry = OAuth()
    registry.init_app(app)
    for provider in configured:
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
    app.extensions[EXTENSION] = ({p.name: p for p in configured}, registry)
    from lms.accounts import oidc_link_views  # noqa: F401 - its routes are on this blueprint

    app.register_blueprint(bp)


def providers() -> dict[str, oidc.ProviderSettings]:
    """The configured providers, by name."""
    found: dict[str, oidc.ProviderSettings] = current_app.extensions[EXTENSION][0]
    return found


def _provider(name: str) -> oidc.ProviderSettings:
    return providers().get(name) or abort(404)


def _client(name: str) -> Any:
    return current_app.extensions[EXTENSION][1].create_client(name)


@bp.app_context_processor
def sign_in_buttons() -> dict[str, Any]:
    if EXTENSION not in current_app.extensions:
        return {"oidc_providers": []}
    locale = i18n.current_language()
    return {
        "oidc_providers": [{"name": p.name, "label": p.label(locale)} for p in providers().values()]
    }


def _sign_in(user: User) -> None:
    """Sign ``user`` in: the one place single sign-on starts a session (a fresh cookie:
    nothing set before it survives). Whatever it writes, the caller commits."""
    session.clear()
    log_in(user)


def signed_in_response(user: User, target: str | None, message: str | None = None) -> Response:
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
}


def refused(provider: oidc.ProviderSettings, reason: str, status: int = 400) -> Any:
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
        return refused(provider, "unreachable", 502)
    if metadata.get("issuer") != provider.issuer:
        log.error(
            "OpenID provider %s: discovery names the issuer %r, not the configured %r",
            provider.name,
            metadata.get("issuer"),
            provider.issuer,
        )
        client.server_metadata.pop("_loaded_at", None)
        return refused(provider, "unreachable", 502)
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
        return refused(provider, "cancelled")
    # RFC 9207: a provider that names itself must name the one this flow went to.
    if request.args.get("iss", provider.issuer) != provider.issuer:
        return refused(provider, "token")
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
        return refused(provider, "state")
    except oidc.IdentityRefused as refusal:
        log.warning("OpenID provider %s: identity refused (%s)", name, refusal.reason)
        return refused(provider, refusal.reason)
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError):
        log.warning("OpenID provider %s: the answer was refused", name, exc_info=True)
        return refused(provider, "token")
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
            return refused(provider, "state")
        return _connect_signed_in(provider, identity)
    row = oidc.find_link(dbs, provider=provider.name, subject=identity.subject)
    if row is not None:
        try:
            user = oidc.signed_in(dbs, link_row=row, identity=identity)
        except oidc.IinConflict:
            dbs.rollback()
            return refused(provider, "iin", 403)
        except oidc.IdentityRefused:
            dbs.rollback()
            return refused(provider, "inactive", 403)
        dbs.commit()
        return signed_in_response(user, target)
    existing = services.find_by_email(dbs, email=identity.email)
    if existing is not None and not existing.is_active:
        return refused(provider, "inactive", 403)
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
        return refused(provider, "elsewhere", 409)
    except oidc.AlreadyLinked:
        return refused(provider, "already", 409)
    except oidc.IinConflict:
        dbs.rollback()
        return refused(provider, "iin", 403)
    dbs.commit()
    label = provider.label(i18n.current_language())
    flash(_("%(label)s is connected to your account.", label=label), "success")
    return redirect(url_for(".connections"))


def pending_identity() -> tuple[oidc.ProviderSettings, oidc.Identity, str | None] | None:
    data = session.get(PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("at"), int):
        return None
    identity = oidc.Identity.from_dict(data.get("identity"))
    if identity is None or identity.provider not in providers():
        return None
    if time.time() - data["at"] > PENDING_MAX_AGE:
        session.pop(PENDING, None)
        return None
    return providers()[identity.provider], identity, data.get("next")


def no_pending() -> Any:
    flash(_("Your sign-in has expired. Please start again."), "error")
    return redirect(url_for("accounts.login"))


@bp.route("/login/oidc/profile", methods=["GET", "POST"])
def first_profile() -> Any:
    pending = pending_identity()
    if pending is None:
        return no_pending()
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
        return refused(provider, "elsewhere", 409)
    dbs.commit()
    return signed_in_response(user, target)


@bp.get("/profile/sign-in-methods")
@login_required
def connections() -> Any:
    user = current_user._get_current_object()
    links = oidc.links_of(db.session(), user=user)
    locale = i18n.current_language()
    verified_by = user.person.iin_verified_by
    return render_template(
        "accounts/oidc/connections.html",
        providers=[(p, p.label(locale), links.get(p.name)) for p in providers().values()],
        has_password=bool(user.password_hash),
        verified_label=(
            providers()[verified_by].label(locale) if verified_by in providers() else verified_by
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
