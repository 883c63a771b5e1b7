"""The fast lane: the common comment-check and JSON check answered beneath Flask.

Flask's request and response objects, routing and hooks cost a check about as much CPU as
scoring it. Most checks are alike: a UTF-8 form (or JSON object) with a valid key and every
required field. The lane answers those in plain WSGI, with the same functions the Flask views
use (the APIs' readers and checks, `context.check_with`, the same answers and headers),
and hands every other request, untouched, to Flask: errors, other charsets, a key in the Host
name, other paths. A test sends the same requests both ways and compares answers and stored
rows.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import orjson
from flask import Flask, Response
from sqlalchemy.orm import Session

from service import akismet_api, json_api
from service.checking import CheckOutcome
from service.context import check_with
from service.settings import Settings
from service.sites import CachedSite, SiteCache

log = logging.getLogger(__name__)
COMMENT_CHECK_PATH = "/1.1/comment-check"
JSON_CHECK_PATH = "/api/v1/check"
FORM_TYPE = "application/x-www-form-urlencoded"
TEXT_TYPE = "text/plain; charset=utf-8"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# The JSON check's query strings the lane answers; Flask reads any other (other case, more
# parameters, a bad word) with its own parser and answers the same or with the error.
EXPLAIN_QUERIES = {"": True, **{f"explain={w}": f for w, f in json_api.EXPLAIN_WORDS.items()}}
# What the lane sends: the headers (Content-Type and Content-Length first) and the body.
Answer = tuple[list[tuple[str, str]], bytes]


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


class FastLane:
    """WSGI middleware in front of the Flask app: answers plain checks itself."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask_app: WSGIApp = app.wsgi_app
        # Read per request, as the views do: an extension may be replaced while serving.
        self.extensions = app.extensions
        self.max_body = int(app.config["MAX_CONTENT_LENGTH"])
        self.routes: dict[str, Callable[[dict[str, Any], bytes], Answer | None]] = {
            COMMENT_CHECK_PATH: self._comment_check,
            JSON_CHECK_PATH: self._json_check,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        route = self.routes.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_app(environ, start_response)
        body = self._body(environ)
        answer = None if body is None else self._answer(route, environ, body)
        if answer is None:
            return self.flask_app(environ, start_response)
        headers, payload = answer
        start_response("200 OK", headers)
        return [payload]

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

    def _answer(
        self,
        route: Callable[[dict[str, Any], bytes], Answer | None],
        environ: dict[str, Any],
        body: bytes,
    ) -> Answer | None:
        try:
            return route(environ, body)
        except Exception:
            # Nothing was stored (a queued row cannot fail here): Flask answers in the API's
            # error form, the same error logged once more there.
            log.exception("fast lane: %s failed; handing it to Flask", environ.get("PATH_INFO"))
            return None

    def _comment_check(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        """Akismet's answer to a plain comment-check, or None to let Flask answer."""
        declared = declared_charset(environ.get("CONTENT_TYPE", ""))
        if declared is None or not akismet_api.is_utf8(akismet_api.form_charset(declared, body)):
            return None
        try:
            form = akismet_api.decode_form(body, "utf-8")
            akismet_api.check_limits(form, self._settings().max_content_bytes)
        except akismet_api.BadRequest:
            return None  # Flask answers with the reason
        key = akismet_api.form_key(form)
        if akismet_api.missing_field(form) or not key:
            return None
        fields = akismet_api.comment_fields(form)
        outcome = self._check(key, fields, "akismet", explain=False, answer_id=False)
        if outcome is None:
            return None
        text = akismet_api.verdict_body(outcome).encode("ascii")
        headers = [("Content-Type", TEXT_TYPE), ("Content-Length", str(len(text)))]
        return headers + akismet_api.verdict_headers(outcome), text

    def _json_check(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        """The JSON API's answer to a well-formed check, or None to let Flask answer."""
        key = json_api.bearer_key(environ.get("HTTP_AUTHORIZATION", ""))
        explain = EXPLAIN_QUERIES.get(environ.get("QUERY_STRING", ""))
        if not key or explain is None:
            return None
        try:
            # orjson reads what json.loads reads, to the same values, in a fraction of the time;
            # what it refuses (a BOM, NaN, a lone surrogate, a huge integer) goes to Flask,
            # whose json.loads answers as before.
            data = orjson.loads(body)
            fields = json_api.read_comment(data, self._settings().max_content_bytes)
        except (ValueError, RecursionError, json_api.ApiError):
            return None  # Flask answers with the reason
        outcome = self._check(key, fields, json_api.VIA, explain=explain, answer_id=True)
        if outcome is None:
            return None
        return self._json_answer(json_api.check_answer(outcome))

    def _json_answer(self, data: dict[str, Any]) -> Answer:
        """What `jsonify(data)` sends, without building a response object for it."""
        provider = self.app.json
        compact = getattr(provider, "compact", None)
        # config["DEBUG"] is what `app.debug` reads, without a property's Python call.
        if (compact is None and self.app.config["DEBUG"]) or compact is False:
            # Indented output: Flask's own response, so that the bytes match exactly.
            response = cast(Response, provider.response(data))
            return list(response.headers.items()), response.get_data()
        # DefaultJSONProvider.response's compact form: its dumps, a newline, its mimetype.
        body = f"{provider.dumps(data, separators=(',', ':'))}\n".encode()
        mimetype = getattr(provider, "mimetype", "application/json")
        return [("Content-Type", mimetype), ("Content-Length", str(len(body)))], body

    def _check(
        self, key: str, fields: Mapping[str, str], via: str, explain: bool, answer_id: bool
    ) -> CheckOutcome | None:
        """Check and store one comment for the key's site; None for an unknown key."""
        sessions = _Sessions(self.extensions["spamward.sessions"])
        try:
            sites: SiteCache = self.extensions["spamward.sites"]
            site: CachedSite | None = sites.lookup(sessions, key)
            if site is None:
                return None  # Flask answers that the key is invalid
            return check_with(
                self.extensions, sessions, site, fields, via, explain=explain, answer_id=answer_id
            )
        finally:
            sessions.close()

    def _settings(self) -> Settings:
        settings: Settings = self.extensions["spamward.settings"]
        return settings
