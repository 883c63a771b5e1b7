"""One error shape per API: Akismet's text and debug header, `{"error": ...}` for JSON."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

AKISMET_PREFIXES = ("/1.1/", "/1.2/")
JSON_PREFIX = "/api/"


def akismet_error(message: str, body: str = "invalid") -> Response:
    """An Akismet-style error: HTTP 200, a short body, the reason in X-akismet-debug-help."""
    response = Response(body, status=200, mimetype="text/plain")
    response.headers["X-akismet-debug-help"] = message
    return response


def json_error(message: str, status: int) -> Response:
    """A JSON API error."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def _handle_http(exc: HTTPException) -> Response | HTTPException:
    message = exc.description or exc.name
    if request.path.startswith(JSON_PREFIX):
        return json_error(message, exc.code or 500)
    if request.path.startswith(AKISMET_PREFIXES):
        response = akismet_error(message, body=message)
        response.status_code = exc.code or 500
        return response
    return exc


def _handle_unexpected(exc: Exception) -> Response | HTTPException:
    # The log gets the stack trace; the client gets the API's own error form.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _handle_http(InternalServerError("internal error; the administrator can see the log"))


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
