"""My certificates (and their re-issue under a new name), their PDF and credential, the
public verification page, the JWKS, and the admin's revocation."""

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
from lms.attachments import content_disposition
from lms.certificates import credential, documents, forms, services
from lms.db import db
from lms.extensions import limiter, rate
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
        reason=documents.reason_text(facts.kind),
    )
    return Response(body, status=410)


@bp.get("/certificates")
@login_required
def mine() -> Any:
    dbs = db.session()
    rows = services.facts_of(dbs, certificates=services.certificates_of(dbs, user=current_user))
    return render_template(
        "certificates/mine.html",
        rows=rows,
        reason_text=documents.reason_text,
        language_of=documents.document_language,
        may_reissue=lambda facts: services.may_reissue(facts.certificate, user=current_user),
        form=forms.ReissueForm(),
    )


@bp.post("/certificates/<code>/reissue")
@login_required
def reissue(code: str) -> Any:
    """A new certificate under the holder's name as it is now; the old one says replaced."""
    dbs = db.session()
    try:
        certificate = services.find_owned(dbs, code=code, user=current_user)
    except services.CertificateNotFound:
        abort(404)
    if not forms.ReissueForm().validate_on_submit():
        abort(400)
    try:
        new = services.reissue(dbs, certificate=certificate, user=current_user)
    except services.NothingToReissue:
        flash(
            _(
                "This certificate already carries your name as it is in your profile, or it "
                "is no longer valid: nothing was re-issued."
            ),
            "error",
        )
        return redirect(url_for(".mine"), code=303)
    dbs.commit()
    flash(
        _(
            "A new certificate with the code %(new)s was issued under your current name. The "
            "old one (%(old)s) now verifies as replaced by it.",
            new=new.code,
            old=certificate.code,
        ),
        "success",
    )
    return redirect(url_for(".mine"), code=303)


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
    token = documents.stored_credential(db.session(), facts)
    db.session().commit()
    response = Response(token, mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = content_disposition(
        f"oqu-certificate-{facts.code}.jwt"
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
            tier=documents.tier_name(facts.tier),
            reason=documents.reason_text(facts.kind),
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
        body["reason"] = documents.reason_text(facts.kind)
        body["reasonKind"] = str(facts.kind)
        if facts.replaced_by is not None:
            body["replacedBy"] = credential.verify_url(documents.base_url(), facts.replaced_by.code)
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
            found = services.certificates_of(dbs, user=holder, include_replaced=True)
    elif query:
        certificate = services.find(dbs, code=query)
        found = [certificate] if certificate is not None else []
    rows = services.facts_of(dbs, certificates=found)
    return render_template(
        "certificates/admin.html",
        query=query,
        rows=rows,
        form=forms.RevokeForm(),
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
        for error in (*form.kind.errors, *form.note.errors):
            flash(str(error), "error")
        return redirect(back)
    try:
        services.revoke_by_admin(
            dbs, certificate=certificate, kind=form.kind.data or "", note=form.note.data
        )
    except services.AlreadyRevoked:
        flash(_("This certificate was revoked already."), "error")
        return redirect(back)
    dbs.commit()
    flash(_("Certificate %(code)s is revoked.", code=certificate.code), "success")
    return redirect(back)
