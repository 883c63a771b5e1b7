"""Signing in and out of the moderation pages (for people; the APIs use site keys)."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from service.db import get_session
from service.security import get_limiter, sign_in_required
from service.users import authenticate, moderator_of

bp = Blueprint("auth", __name__)

# Per IP and name: a guessed password; per IP alone: many names tried from one place.
ATTEMPTS_PER_NAME = "5/minute"
ATTEMPTS_PER_ADDRESS = "20/minute"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, else the queue."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("moderate.queue")


def _name_and_address() -> str:
    return f"{get_remote_address()}|{request.form.get('name', '').strip().lower()}"


def _count_attempt() -> None:
    """Count one sign-in attempt against both limits; past either, a 429 answers instead."""
    limiter = get_limiter()
    # Each limit is entered on a line of its own: Flask-Limiter tells them apart by line.
    with limiter.limit(ATTEMPTS_PER_ADDRESS, scope="login-address"):
        pass
    with limiter.limit(ATTEMPTS_PER_NAME, key_func=_name_and_address, scope="login-name"):
        pass


@bp.get("/")
def home() -> ResponseReturnValue:
    """The site root leads to the queue (or to the sign-in page)."""
    return redirect(url_for("moderate.queue"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form; on POST check the name and password (rate-limited)."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("moderate.queue"))
        return render_template("auth/login.html", next=request.args.get("next", ""))
    _count_attempt()
    session = get_session()
    user = authenticate(
        session, request.form.get("name", "").strip(), request.form.get("password", "")
    )
    if user is None:
        flash("Wrong name or password.", "error")
        page = render_template("auth/login.html", next=request.form.get("next", ""))
        return page, 401
    login_user(moderator_of(session, user))
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
@sign_in_required
def logout() -> ResponseReturnValue:
    """Sign out (a POST with the CSRF token, so no other site can sign anyone out)."""
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
