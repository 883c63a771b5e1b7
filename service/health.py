"""Health checks for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.context import get_model
from service.db import get_engine, is_current

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The model is loaded and the database answers with the newest schema."""
    model = get_model()
    try:
        engine = get_engine()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if not is_current(engine):
            return jsonify(
                status="not ready",
                error="database schema is not migrated: run `spamward db upgrade`",
            ), 503
    except SQLAlchemyError as exc:
        return jsonify(
            status="not ready", error=f"database unreachable: {exc.__class__.__name__}"
        ), 503
    return jsonify(status="ready", model_version=model.version), 200
