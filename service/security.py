"""What the cookie-based pages need: a secret key, sessions, CSRF tokens, rate limits, headers.

The APIs authenticate with site keys, never with cookies, so they are exempt from CSRF checks.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, login_required
from flask_wtf.csrf import CSRFProtect

from service.db import get_session
from service.models import User
from service.settings import Settings
from service.users import Moderator, moderator_of

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
# Scripts, styles and images come only from our own static files; nothing may frame the pages.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
P = ParamSpec("P")
R = TypeVar("R")
_HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


# Paths of the key-authenticated APIs and health checks: they never use the session cookie.
_COOKIELESS_PREFIXES = ("/1.1/", "/1.2/", "/api/", "/healthz", "/readyz")


class PagesOnlySessionInterface(SecureCookieSessionInterface):
    """Cookie sessions for the pages; API requests get none, sparing each check the work of
    reading and signing a cookie it never uses."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No session for API paths (Flask treats the null session as read-only)."""
        if request.path.startswith(_COOKIELESS_PREFIXES):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _is_api_request() -> bool:
    return request.path.startswith(_COOKIELESS_PREFIXES)


def _skip_page_hooks_on_apis(app: Flask) -> None:
    """Run the hooks CSRF, logins and the rate limiter add to every request on pages only.

    API requests carry no cookie, form or limit for them to look at, yet together they cost
    each comment-check about 0.35 ms of CPU, some 15 % of the service's throughput.
    """

    def before(hook: Any) -> Any:
        return lambda: None if _is_api_request() else hook()

    def after(hook: Any) -> Any:
        return lambda response: response if _is_api_request() else hook(response)

    def teardown(hook: Any) -> Any:
        return lambda error: None if _is_api_request() else hook(error)

    app.before_request_funcs[None] = [before(h) for h in app.before_request_funcs[None]]
    app.after_request_funcs[None] = [after(h) for h in app.after_request_funcs[None]]
    app.teardown_request_funcs[None] = [teardown(h) for h in app.teardown_request_funcs[None]]


def instance_secret_key(instance_path: Path) -> str:
    """The key kept in `<instance>/secret_key`, made on first use (mode 0600).

    Every gunicorn worker reads the same file, so a session signed by one is valid in all.
    """
    path = instance_path / SECRET_KEY_FILE
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        raise RuntimeError(f"{path} is empty: delete it or set SPAMWARD_SECRET_KEY") from None
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def sign_in_required(view: Callable[P, R]) -> Callable[P, R]:
    """Let the view run for a signed-in user; others are sent to the sign-in page."""
    wrapped: Callable[P, R] = login_required(view)
    return wrapped


def _add_html_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        for name, value in _HTML_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def get_limiter() -> Limiter:
    """The app's rate limiter (its counts live in SPAMWARD_RATELIMIT_STORAGE_URI)."""
    limiter: Limiter = current_app.extensions["spamward.limiter"]
    return limiter


def _load_moderator(user_id: str) -> Moderator | None:
    # Read on every request, so a removed user or a changed site list takes effect at once.
    session = get_session()
    user = session.get(User, int(user_id)) if user_id.isdigit() else None
    return moderator_of(session, user) if user is not None else None


def init_app(app: Flask, settings: Settings) -> None:
    """Configure secret key, cookies, CSRF, logins, the rate limiter and the HTML headers."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    testing = bool(app.config.get("TESTING"))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies and not testing,
        # A token lives as long as the session: a queue left open for hours still works.
        WTF_CSRF_TIME_LIMIT=None,
        # Flask-WTF's HTTPS Referer check cannot work with Referrer-Policy no-referrer; the
        # token and SameSite=Lax cookies are what protect the forms.
        WTF_CSRF_SSL_STRICT=False,
    )
    csrf = CSRFProtect(app)
    from service import akismet_api, json_api

    csrf.exempt(akismet_api.bp)
    csrf.exempt(json_api.bp)
    logins = LoginManager(app)
    logins.login_view = "auth.login"
    logins.login_message = "Sign in to see the moderation pages."
    logins.user_loader(_load_moderator)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.ratelimit_storage_uri,
        default_limits=[],
        headers_enabled=False,
    )
    # Only sign-in is limited, inline (auth._count_attempt), so the check Flask-Limiter hooks
    # before every request finds nothing to do: drop it, it cost each API call ~0.1 ms.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    app.extensions["spamward.limiter"] = limiter
    app.session_interface = PagesOnlySessionInterface()
    _skip_page_hooks_on_apis(app)
    app.after_request(_add_html_headers)
