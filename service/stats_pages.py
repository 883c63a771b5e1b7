"""The stats page: checks per site and day by decision, moderators' corrections, and charts.

Charts are SVG images served from their own URL (the page's CSP allows images from 'self'
only, and an SVG loaded as an image never runs anything); every label in them is escaped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from service.db import get_session
from service.models import Site
from service.moderate import me
from service.moderation import visible_sites
from service.security import sign_in_required
from service.stats import chart_svg, corrections, count_series, daily_counts, days_between

bp = Blueprint("stats", __name__, url_prefix="/moderate/stats")

DEFAULT_DAYS = 30
MAX_DAYS = 366


def _days() -> int:
    raw = request.args.get("days", "")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_DAYS else DEFAULT_DAYS


def _range(days: int) -> tuple[date, date]:
    until = datetime.now(UTC).date()
    return until - timedelta(days=days - 1), until


@bp.get("/")
@sign_in_required
def stats() -> ResponseReturnValue:
    """Per-site, per-day counts and corrections over the last `days` days (30 by default)."""
    session = get_session()
    sites = visible_sites(session, me())
    days = _days()
    since, until = _range(days)
    ids = [site.id for site in sites]
    counts = daily_counts(session, ids, since, until)
    fixes = corrections(session, ids, since, until)
    rows = {
        site.id: [
            (count, fix)
            for count, fix in zip(counts.get(site.id, []), fixes.get(site.id, []), strict=True)
            if count.total or fix.moderator.labelled or fix.site.labelled
        ]
        for site in sites
    }
    return render_template("moderate/stats.html", sites=sites, rows=rows, days=days)


def _visible_site(site_id: int) -> Site:
    """The site, if the signed-in person may see it; else 404 (no hint that it exists)."""
    site = get_session().get(Site, site_id)
    if site is None or not me().may_see(site.id):
        abort(404)
    return site


def _svg(text: str) -> Response:
    response = Response(text, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int(max=2147483647):site_id>/checks.svg")
@sign_in_required
def checks_chart(site_id: int) -> ResponseReturnValue:
    """A stacked bar chart of one site's checks per day by decision."""
    session, site = get_session(), _visible_site(site_id)
    since, until = _range(_days())
    per_day = daily_counts(session, [site.id], since, until)[site.id]
    title = f"Checks per day: {site.name or site.url}"
    return _svg(chart_svg(days_between(since, until), count_series(per_day), title=title))


@bp.get("/<int(max=2147483647):site_id>/corrections.svg")
@sign_in_required
def corrections_chart(site_id: int) -> ResponseReturnValue:
    """A line chart of the model's mistakes per day as moderators (and the site) judged them."""
    session, site = get_session(), _visible_site(site_id)
    since, until = _range(_days())
    per_day = corrections(session, [site.id], since, until)[site.id]
    series = [
        ("FP, moderators", [float(d.moderator.false_positives) for d in per_day]),
        ("FN, moderators", [float(d.moderator.false_negatives) for d in per_day]),
        ("FP, site", [float(d.site.false_positives) for d in per_day]),
        ("FN, site", [float(d.site.false_negatives) for d in per_day]),
    ]
    title = f"Model corrections per day: {site.name or site.url}"
    return _svg(chart_svg(days_between(since, until), series, title=title, kind="line"))
