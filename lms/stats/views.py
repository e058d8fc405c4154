"""The analyst's dashboard, its SVG charts, and the admin's completion annulment page."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from lms.attachments import content_disposition
from lms.db import db
from lms.i18n import current_language
from lms.reference import region_codes, regions
from lms.security import roles_required
from lms.stats import charts, dimensions, exports, figures, services
from lms.stats.figures import BadPeriod, Period
from lms.stats.forms import AnnulForm
from lms.stats.models import Completion

bp = Blueprint("stats", __name__, template_folder="templates")


def period_choices(today: date) -> list[str]:
    """Months of the last year, quarters of the last two years, the last three years."""
    months, y, m = [], today.year, today.month
    for _i in range(12):
        months.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    quarters, y, q = [], today.year, (today.month - 1) // 3 + 1
    for _i in range(8):
        quarters.append(f"{y}-Q{q}")
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    return [str(today.year - i) for i in range(3)] + quarters + months


def _filters() -> tuple[Period | None, str | None, str | None]:
    try:
        period = Period.parse(request.args["period"]) if request.args.get("period") else None
    except BadPeriod:
        period = None
    region = request.args.get("region") or None
    if region not in region_codes():
        region = None
    tier = (
        request.args.get("tier") if request.args.get("tier") in ("public", "specialist") else None
    )
    return period, region, tier


def title_of(dimension: str) -> str:
    """A dimension's heading in the page's language."""
    return dimensions.get(dimension).title[current_language()]


def breakdown_rows(dimension: str, period: Any, region: Any, tier: Any) -> list[dict]:
    session = db.session()
    counts = figures.breakdown(
        session, dimension=dimension, period=period, region=region, tier=tier
    )
    values = figures.dimension_values(session, dimension)
    labels = exports.value_labels(session, dimension, values)
    locale = current_language()
    zero = {"completions": 0, "new_trained": 0, "new_specialists": 0}
    return [
        {"value": v, "label": label.get(locale, label["en"]), **counts.get((v,), zero)}
        for v, label in zip(values, labels, strict=True)
    ]


@bp.get("/stats")
@roles_required("analyst", "admin")
def dashboard() -> Any:
    session = db.session()
    period, region, tier = _filters()
    progress = figures.progress(session)
    args = {
        k: v
        for k, v in (
            ("period", period.text if period else None),
            ("region", region),
            ("tier", tier),
        )
        if v
    }
    return render_template(
        "stats/dashboard.html",
        progress=progress,
        targets=(figures.TARGET_TRAINED, figures.TARGET_SPECIALISTS),
        cumulative=figures.cumulative_by_month(session, tier=tier, region=region),
        breakdowns=[
            (d, title_of(d), breakdown_rows(d, period, region, tier)) for d in dimensions.NAMES
        ],
        periods=period_choices(figures.today()),
        period=period,
        region=region,
        tier=tier,
        regions=[(r.code, r.name(current_language())) for r in regions()],
        args=args,
        export_period=period.text if period else str(figures.today().year),
        formats=exports.FORMATS,
    )


@bp.get("/stats/charts/<name>.svg")
@roles_required("analyst", "admin")
def chart(name: str) -> Any:
    session = db.session()
    period, region, tier = _filters()
    key = (
        name,
        period.text if period else None,
        region,
        tier,
        current_language(),
        figures.data_version(session),
    )
    if name == "cumulative":

        def build() -> str:
            rows = figures.cumulative_by_month(session, tier=tier, region=region)
            return charts.line(
                _("Cumulative trained and specialists by month"),
                [(m, t) for m, t, _s in rows],
                [(m, s) for m, _t, s in rows],
                (_("Trained"), _("Specialists")),
            )
    elif name in dimensions.REGISTRY:

        def build() -> str:
            rows = breakdown_rows(name, period, region, tier)
            return charts.bars(
                _("Completions by %(dimension)s", dimension=title_of(name).lower()),
                [(r["label"], r["completions"]) for r in rows],
            )
    else:
        abort(404)
    svg = charts.cached(key, build)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


@bp.get("/stats/exports/<dimension>.<fmt>")
@roles_required("analyst", "admin")
def export(dimension: str, fmt: str) -> Any:
    if dimension not in dimensions.REGISTRY or fmt not in exports.FORMATS:
        abort(404)
    try:
        period = Period.parse(request.args.get("period", ""))
    except BadPeriod:
        abort(400)
    body = exports.stream(
        db.session(),
        dimension=dimension,
        period=period,
        fmt=fmt,
        license_id=current_app.config["OPEN_DATA_LICENSE"],
    )
    response = Response(stream_with_context(body), content_type=exports.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = content_disposition(
        f"oqu-{dimension}-{period.text}.{fmt}"
    )
    return response


@bp.get("/admin/completions")
@roles_required("admin")
def admin_completions() -> Any:
    session = db.session()
    q = request.args.get("q", "").strip()
    found = services.find_completions(session, query=q)
    return render_template(
        "stats/admin_completions.html",
        q=q,
        completions=found,
        annulled=services.annulled_among(session, completions=found),
        courses=services.course_titles(session, locale=current_language()),
    )


@bp.post("/admin/completions/<int:completion_id>/annul")
@roles_required("admin")
def annul(completion_id: int) -> Any:
    session = db.session()
    completion = session.get(Completion, completion_id) or abort(404)
    form = AnnulForm()
    if not form.validate_on_submit() or not form.reason.data.strip():
        flash(_("Give a reason for the annulment."), "error")
        return redirect(url_for(".admin_completions", q=completion_id))
    try:
        services.annul_completion(
            session, completion=completion, reason=form.reason.data.strip(), by_user=current_user
        )
    except services.AlreadyAnnulled:
        flash(_("This completion was already annulled."), "error")
        return redirect(url_for(".admin_completions", q=completion_id))
    session.commit()
    flash(_("Completion annulled; its certificate is revoked."), "success")
    return redirect(url_for(".admin_completions", q=completion_id))
