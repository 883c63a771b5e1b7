"""A bare Flask app answering a constant: the web layer's own limit under the same gunicorn."""

from __future__ import annotations

from flask import Flask, Response


def create_app() -> Flask:
    """An app with the two check endpoints' paths, answering each with a constant.

    The benchmark drives it with a check endpoint's own requests; it reads none of them.
    """
    app = Flask(__name__)

    @app.post("/1.1/comment-check")
    def constant() -> Response:
        return Response("false", mimetype="text/plain")

    @app.post("/api/v1/check")
    def constant_json() -> Response:
        return Response('{"decision":"ham"}\n', mimetype="application/json")

    return app
