"""The admin page: model versions side by side, retraining jobs, promote and rollback, and
per-site thresholds with a preview. Admins only; training itself runs in its own process."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from model import ThresholdError, Thresholds
from service.context import get_model, get_settings
from service.db import get_session
from service.jobs import (
    RETRAIN_JOB,
    JobAlreadyRunning,
    recent_jobs,
    running_job,
    spawn_retrain,
)
from service.models import ModelVersion, Site
from service.moderate import me
from service.registry import (
    RegistryError,
    ensure_current_registered,
    list_versions,
    promote,
    rollback,
)
from service.security import sign_in_required
from service.sites import set_thresholds, site_thresholds
from service.threshold_preview import preview_thresholds

bp = Blueprint("admin", __name__, url_prefix="/admin")
P = ParamSpec("P")
R = TypeVar("R")


def admin_required(view: Callable[P, R]) -> Callable[P, R]:
    """Let signed-in admins through; moderators get 403."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not me().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return sign_in_required(wrapper)


def _reports_dir() -> Path:
    # Where `spamward retrain` writes reports: <instance>/reports, unless configured (tests).
    configured = current_app.config.get("REPORTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "reports"


def _actor() -> str:
    return f"admin:{me().name}"


@bp.get("/")
@admin_required
def models() -> ResponseReturnValue:
    """Model versions with their figures, the latest gate report, jobs, and site thresholds."""
    session = get_session()
    latest = session.scalar(
        select(ModelVersion)
        .where(ModelVersion.report.is_not(None))
        .order_by(ModelVersion.id.desc())
        .limit(1)
    )
    sites = session.scalars(select(Site).order_by(Site.id)).all()
    return render_template(
        "admin/models.html",
        versions=list_versions(session),
        report=latest.report if latest is not None else None,
        running=running_job(session, RETRAIN_JOB),
        jobs=recent_jobs(session, RETRAIN_JOB, limit=10),
        sites=[(site, site_thresholds(site)) for site in sites],
        default=_served_thresholds(),
    )


def _served_thresholds() -> Thresholds:
    """The thresholds checks are decided with when a site has none of its own."""
    return get_settings().thresholds or get_model().card.thresholds


@bp.get("/reports/<version>/<name>")
@admin_required
def report_file(version: str, name: str) -> ResponseReturnValue:
    """A plot or page of a retraining report (only its own PNG and HTML files)."""
    if not name.endswith((".png", ".html")) or "/" in version or version.startswith("."):
        abort(404)
    return send_from_directory(_reports_dir() / version, name)


@bp.post("/retrain")
@admin_required
def retrain() -> ResponseReturnValue:
    """Start a retraining in its own process; its progress shows on this page."""
    session = get_session()
    current = running_job(session, RETRAIN_JOB)
    if current is not None:
        flash(f"A retraining is already running ({current.progress or 'starting'}).", "error")
        return redirect(url_for("admin.models"))
    settings = get_settings()
    spawn_retrain(
        settings.database_url,
        str(settings.model_dir),
        Path(current_app.instance_path) / "logs",
        _actor(),
    )
    flash("Retraining started; reload this page to follow it.", "ok")
    return redirect(url_for("admin.models"))


@bp.post("/models/<version>/promote")
@admin_required
def promote_version(version: str) -> ResponseReturnValue:
    """Make a version the champion; every instance switches within seconds."""
    session = get_session()
    try:
        ensure_current_registered(session, get_settings().model_dir)
        promote(session, version, _actor())
    except RegistryError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{version} is the champion.", "ok")
    return redirect(url_for("admin.models"))


@bp.post("/models/rollback")
@admin_required
def rollback_model() -> ResponseReturnValue:
    """Make the champion's predecessor the champion again."""
    try:
        rollback(get_session(), _actor())
    except RegistryError as exc:
        flash(str(exc), "error")
    else:
        flash("Rolled back to the previous champion.", "ok")
    return redirect(url_for("admin.models"))


def _thresholds_from(form: Any) -> Thresholds:
    try:
        values = [float(form.get(name, "")) for name in ("unsure", "spam", "discard")]
        return Thresholds(*values)
    except (ValueError, ThresholdError) as exc:
        raise ValueError(f"thresholds: {exc}") from exc


@bp.route("/sites/<int(max=2147483647):site_id>/thresholds", methods=["GET", "POST"])
@admin_required
def site_thresholds_page(site_id: int) -> ResponseReturnValue:
    """Preview (GET with values) or save (POST) a site's own thresholds."""
    session = get_session()
    site = session.get(Site, site_id)
    if site is None:
        abort(404)
    source = request.form if request.method == "POST" else request.args
    wanted = site_thresholds(site) or _served_thresholds()
    if "spam" in source:
        try:
            wanted = _thresholds_from(source)
        except ValueError as exc:
            flash(str(exc), "error")
        else:
            if request.method == "POST":
                set_thresholds(session, site, wanted)
                flash(f"Thresholds of {site.url} saved.", "ok")
                return redirect(url_for("admin.site_thresholds_page", site_id=site.id))
    preview = preview_thresholds(session, site.id, wanted)
    return render_template("admin/thresholds.html", site=site, wanted=wanted, preview=preview)


@bp.errorhandler(JobAlreadyRunning)
def _job_running(exc: JobAlreadyRunning) -> ResponseReturnValue:
    flash(str(exc), "error")
    return redirect(url_for("admin.models"))
