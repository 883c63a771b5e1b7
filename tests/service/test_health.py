"""Health checks."""

from __future__ import annotations

from flask.testing import FlaskClient

from model import DEFAULT_MODEL_DIR
from model.persistence import read_card


def test_healthz_says_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_the_model_version(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ready",
        "model_version": read_card(DEFAULT_MODEL_DIR).version,
    }
