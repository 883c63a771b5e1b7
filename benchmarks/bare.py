"""A bare Flask app answering a constant: the web layer's own limit under the same gunicorn."""

from __future__ import annotations

from flask import Flask, Response


def create_app() -> Flask:
    """An app with one POST endpoint that returns `false`, like a ham comment-check."""
    app = Flask(__name__)

    @app.post("/1.1/comment-check")
    def constant() -> Response:
        return Response("false", mimetype="text/plain")

    return app
