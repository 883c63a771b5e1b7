"""The comment-check fast lane: the common Akismet comment-check answered beneath Flask.

Flask's request and response objects, routing and hooks cost a comment-check about as much
CPU as scoring it. Most checks are alike: a UTF-8 form with a valid key and every required
field. The lane answers those in plain WSGI, with the same functions the Flask view uses
(`akismet_api`'s form reading, `checking.check_and_store`, the same answer and headers), and
hands every other request, untouched, to Flask: errors, other charsets, a key in the Host
name or other paths. A test sends the same requests both ways and compares answers and
stored rows.
"""

from __future__ import annotations

import codecs
import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from service.akismet_api import (
    BadRequest,
    check_limits,
    comment_fields,
    decode_form,
    form_charset,
    form_key,
    missing_field,
    verdict_body,
    verdict_headers,
)
from service.checking import CheckOutcome, check_and_store
from service.registry import ModelHolder
from service.settings import Settings
from service.sites import SiteCache
from service.writer import CheckWriter

log = logging.getLogger(__name__)
CHECK_PATH = "/1.1/comment-check"
FORM_TYPE = "application/x-www-form-urlencoded"
TEXT_TYPE = "text/plain; charset=utf-8"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Sessions:
    """A session opened only if checking needs one (a site not in the cache yet)."""

    def __init__(self, factory: Callable[[], Session]) -> None:
        self.factory = factory
        self.session: Session | None = None

    def __call__(self) -> Session:
        if self.session is None:
            self.session = self.factory()
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def declared_charset(content_type: str) -> str | None:
    """The charset a form Content-Type declares ('' for none); None for any other type."""
    mimetype, _, params = content_type.partition(";")
    if mimetype.strip().lower() not in ("", FORM_TYPE):
        return None
    name, _, value = params.partition("=")
    if not params.strip():
        return ""
    if name.strip().lower() != "charset" or ";" in value:
        return None
    return value.strip().strip('"')


def _is_utf8(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return False


class CommentCheckLane:
    """WSGI middleware in front of the Flask app: answers plain comment-checks itself."""

    def __init__(self, app: Flask) -> None:
        self.flask_app: WSGIApp = app.wsgi_app
        # Read per request, as the views do: an extension may be replaced while serving.
        self.extensions = app.extensions
        self.max_body = int(app.config["MAX_CONTENT_LENGTH"])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != CHECK_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_app(environ, start_response)
        answer = self._answer(environ)
        if answer is None:
            return self.flask_app(environ, start_response)
        body = verdict_body(answer).encode("ascii")
        headers = [("Content-Type", TEXT_TYPE), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers + verdict_headers(answer))
        return [body]

    def _body(self, environ: dict[str, Any]) -> bytes | None:
        """The request body, put back for Flask to read again; None if not plainly sized."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= self.max_body:
            return None
        body: bytes = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        return body if len(body) == length else None

    def _answer(self, environ: dict[str, Any]) -> CheckOutcome | None:
        """The stored check's outcome, or None to let Flask answer."""
        declared = declared_charset(environ.get("CONTENT_TYPE", ""))
        if declared is None:
            return None
        body = self._body(environ)
        if body is None or not _is_utf8(form_charset(declared, body)):
            return None
        try:
            form = decode_form(body, "utf-8")
            check_limits(form, self._settings().max_content_bytes)
        except BadRequest:
            return None  # Flask answers with the reason
        if missing_field(form) or not form_key(form):
            return None
        sessions = _Sessions(self.extensions["spamward.sessions"])
        try:
            return self._check(sessions, form)
        except Exception:
            # Nothing was stored (a queued row cannot fail here): Flask answers in Akismet's
            # error form, the same error logged once more there.
            log.exception("fast lane: comment-check failed; handing it to Flask")
            return None
        finally:
            sessions.close()

    def _check(self, sessions: _Sessions, form: dict[str, str]) -> CheckOutcome | None:
        sites: SiteCache = self.extensions["spamward.sites"]
        site = sites.lookup(sessions, form_key(form))
        if site is None:
            return None  # Flask answers `invalid`
        models: ModelHolder = self.extensions["spamward.models"]
        writer: CheckWriter | None = self.extensions["spamward.writer"]
        return check_and_store(
            sessions,
            site,
            comment_fields(form),
            "akismet",
            models.get(),
            self._settings().thresholds,
            writer,
            explain=False,
        )

    def _settings(self) -> Settings:
        settings: Settings = self.extensions["spamward.settings"]
        return settings
