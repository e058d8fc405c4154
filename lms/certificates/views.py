"""My certificates, their PDF and credential, the public verification page, the JWKS, and
the admin's revocation."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.certificates import credential, documents, forms, services
from lms.db import db
from lms.extensions import limiter, rate
from lms.i18n import current_language
from lms.security import roles_required

bp = Blueprint("certificates", __name__, template_folder="templates")
# The page and its JSON twin share one budget, so two addresses do not double the guessing.
verification_limit = limiter.shared_limit(rate("verify"), scope="certificate-verification")


def _owned_facts(code: str) -> services.CertificateFacts:
    """The facts of the current user's certificate ``code``; 404 for anyone else's."""
    dbs = db.session()
    try:
        certificate = services.find_owned(dbs, code=code, user=current_user)
    except services.CertificateNotFound:
        abort(404)
    return services.facts(dbs, certificate=certificate)


def _gone(facts: services.CertificateFacts) -> Response:
    body = render_template(
        "certificates/revoked_download.html",
        facts=facts,
        reason=documents.reason_text(facts.reason),
    )
    return Response(body, status=410)


def _view_title(facts: services.CertificateFacts) -> str:
    return documents.course_title(facts, current_language())


@bp.get("/certificates")
@login_required
def mine() -> Any:
    dbs = db.session()
    rows = services.facts_of(dbs, certificates=services.certificates_of(dbs, user=current_user))
    return render_template(
        "certificates/mine.html",
        rows=rows,
        title_of=_view_title,
        reason_text=documents.reason_text,
        language_of=documents.document_language,
    )


@bp.get("/certificates/<code>.pdf")
@login_required
def download_pdf(code: str) -> Any:
    facts = _owned_facts(code)
    if not facts.valid:
        return _gone(facts)
    language = documents.document_language(facts, request.args.get("lang"))
    response = Response(documents.render_pdf(facts, language), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="oqu-certificate-{facts.code}-{language}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/<code>.jwt")
@login_required
def download_credential(code: str) -> Any:
    facts = _owned_facts(code)
    if not facts.valid:
        return _gone(facts)
    store = documents.keystore()
    # The key that signed it before, while still published, so the bytes stay the same.
    key = (facts.certificate.key_id and store.get(facts.certificate.key_id)) or store.newest()
    services.sign_with(db.session(), certificate=facts.certificate, kid=key.kid)
    db.session().commit()
    language = documents.document_language(facts, request.args.get("lang"))
    token = credential.sign(documents.claims(facts, language), key)
    response = Response(token, mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="oqu-certificate-{facts.code}.jwt"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/verify/<code>")
@verification_limit
def verify(code: str) -> Any:
    facts = _facts_of(code)
    if facts is None:
        # The same bare page whatever was wrong with the code: nothing to learn from it.
        return Response(render_template("certificates/not_found.html"), status=404)
    response = Response(
        render_template(
            "certificates/verify.html",
            facts=facts,
            course_title=_view_title(facts),
            tier=documents.tier_name(facts.tier),
            reason=documents.reason_text(facts.reason),
        )
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/verify/<code>.json")
@verification_limit
def verify_status(code: str) -> Any:
    """The ``credentialStatus`` of a credential: valid or revoked, and why; no holder."""
    facts = _facts_of(code)
    if facts is None:
        return _public_json({"error": "not found"}, status=404)
    body = {
        "id": credential.status_url(documents.base_url(), facts.code),
        "type": credential.STATUS_TYPE,
        "credential": credential.verify_url(documents.base_url(), facts.code),
        "status": "valid" if facts.valid else "revoked",
    }
    if not facts.valid:
        body["reason"] = documents.reason_text(facts.reason)
    return _public_json(body)


def _facts_of(code: str) -> Any:
    """What the public may know of certificate ``code``; None for an unknown code."""
    dbs = db.session()
    certificate = services.find(dbs, code=code)
    return None if certificate is None else services.facts(dbs, certificate=certificate)


def _public_json(body: dict[str, str], status: int = 200) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Any:
    body = json.dumps(documents.keystore().jwks(), indent=2)
    response = Response(body, mimetype="application/jwk-set+json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/admin/certificates")
@roles_required("admin")
def admin() -> Any:
    dbs = db.session()
    query = request.args.get("q", "").strip()[:254]
    found: list[Any] = []
    if "@" in query:
        holder = accounts.find_by_email(dbs, email=query)
        if holder is not None:
            found = services.certificates_of(dbs, user=holder)
    elif query:
        certificate = services.find(dbs, code=query)
        found = [certificate] if certificate is not None else []
    rows = services.facts_of(dbs, certificates=found)
    return render_template(
        "certificates/admin.html",
        query=query,
        rows=rows,
        form=forms.RevokeForm(),
        title_of=_view_title,
        reason_text=documents.reason_text,
    )


@bp.post("/admin/certificates/<code>/revoke")
@roles_required("admin")
def admin_revoke(code: str) -> Any:
    dbs = db.session()
    certificate = services.find(dbs, code=code) or abort(404)
    form = forms.RevokeForm()
    back = url_for(".admin", q=certificate.code)
    if not form.validate_on_submit():
        for error in form.reason.errors:
            flash(str(error), "error")
        return redirect(back)
    try:
        services.revoke(dbs, certificate=certificate, reason=form.reason.data or "")
    except services.AlreadyRevoked:
        flash(_("This certificate was revoked already."), "error")
        return redirect(back)
    dbs.commit()
    flash(_("Certificate %(code)s is revoked.", code=certificate.code), "success")
    return redirect(back)
