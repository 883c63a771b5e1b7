"""The admin page: versions, promote and rollback buttons, retraining, thresholds with a preview."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from model import DEFAULT_MODEL_DIR, SpamModel
from model.persistence import read_card
from service.db import get_session
from service.jobs import RETRAIN_JOB, start_job
from service.models import Role, Site
from service.registry import champion, ensure_current_registered, register_folder
from service.retraining import run_retrain
from tests.factories import make_comments
from tests.service.conftest import Persona, csrf_token, make_user, sign_in, submit
from tests.service.test_retraining import _label, _persona, tiny_app  # noqa: F401 (fixture)

SHIPPED = read_card(DEFAULT_MODEL_DIR).version


def _post(client: FlaskClient, path: str, **data: str) -> list[str]:
    """Post a form of the admin page with its CSRF token; return the flashed messages."""
    token = csrf_token(client, "/admin/")
    response = client.post(path, data={"csrf_token": token, **data})
    assert response.status_code == 302, response.text
    page = client.get(response.location).text
    return re.findall(r'<li class="flash \w+">([^<]*)</li>', page)


def _champion(app: Flask) -> str:
    with app.app_context():
        live = champion(get_session())
        return live.version if live is not None else ""


@pytest.fixture
def registered(app: Flask, tiny_model_dir: Path) -> None:
    with app.app_context():
        ensure_current_registered(get_session(), DEFAULT_MODEL_DIR)
        register_folder(get_session(), tiny_model_dir, "import")


def test_the_admin_page_is_for_admins_only(client: FlaskClient, carol: str) -> None:
    assert client.get("/admin/").status_code == 302  # not signed in: to the sign-in page
    sign_in(client, carol)
    assert client.get("/admin/").status_code == 403
    assert client.post("/admin/models/rollback").status_code in (400, 403)


def test_the_admin_page_lists_versions_with_the_champion_marked(
    client: FlaskClient, erin: str, registered: None, tiny_model: SpamModel
) -> None:
    sign_in(client, erin)
    page = client.get("/admin/").text
    rows = re.findall(r'<tr class="version( champion)?">.*?<td>([\w-]+)</td>', page, re.S)
    assert [(bool(mark), version) for mark, version in rows] == [
        (False, tiny_model.version),
        (True, SHIPPED),
    ]


def test_promote_and_rollback_buttons_switch_the_champion(
    app: Flask, client: FlaskClient, erin: str, registered: None, tiny_model: SpamModel
) -> None:
    sign_in(client, erin)
    flashed = _post(client, f"/admin/models/{tiny_model.version}/promote")
    assert f"{tiny_model.version} is the champion." in flashed
    assert _champion(app) == tiny_model.version
    assert "Rolled back to the previous champion." in _post(client, "/admin/models/rollback")
    assert _champion(app) == SHIPPED


def test_promoting_an_unknown_version_says_so(client: FlaskClient, erin: str) -> None:
    sign_in(client, erin)
    flashed = _post(client, "/admin/models/nope/promote")
    assert any("no model version &#39;nope&#39;" in f for f in flashed), flashed


def test_the_retrain_button_starts_a_job_process_for_this_admin(
    app: Flask, client: FlaskClient, erin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[Any, ...]] = []
    # The real process start is tested in test_retraining.py; here: what the button asks for.
    monkeypatch.setattr("service.admin_pages.spawn_retrain", lambda *a: started.append(a))
    sign_in(client, erin)
    assert "Retraining started; reload this page to follow it." in _post(client, "/admin/retrain")
    settings = app.extensions["spamward.settings"]
    assert [(s[0], s[1], s[3]) for s in started] == [
        (settings.database_url, str(settings.model_dir), "admin:erin")
    ]


def test_the_retrain_button_refuses_while_a_retraining_runs(
    app: Flask, client: FlaskClient, erin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.admin_pages.spawn_retrain", lambda *a: pytest.fail("spawned"))
    with app.app_context():
        job = start_job(get_session(), RETRAIN_JOB, "cli:root")
        job.progress = "validation fold 2/5"
        get_session().commit()
    sign_in(client, erin)
    assert "validation fold 2/5" in client.get("/admin/").text
    flashed = _post(client, "/admin/retrain")
    assert flashed == ["A retraining is already running (validation fold 2/5)."]


def test_the_thresholds_preview_counts_recent_checks_and_saving_applies_them(
    app: Flask, client: FlaskClient, alice: Persona, erin: str
) -> None:
    for text in ("Buy cheap viagra now at http://pills.example.shop", "Nice article", "Thanks!"):
        submit(client, alice, text)
    sign_in(client, erin)
    page = client.get(f"/admin/sites/{alice.site_id}/thresholds?unsure=0&spam=0&discard=1").text
    assert re.search(r'flagged <b class="spam">3</b>', page), page
    token = csrf_token(client, f"/admin/sites/{alice.site_id}/thresholds")
    client.post(
        f"/admin/sites/{alice.site_id}/thresholds",
        data={"csrf_token": token, "unsure": "0.3", "spam": "0.8", "discard": "0.99"},
    )
    with app.app_context():
        site = get_session().get_one(Site, alice.site_id)
        assert (site.unsure_threshold, site.spam_threshold, site.discard_threshold) == (
            0.3,
            0.8,
            0.99,
        )


def test_thresholds_out_of_order_are_refused_with_a_message(
    client: FlaskClient, alice: Persona, erin: str
) -> None:
    sign_in(client, erin)
    page = client.get(f"/admin/sites/{alice.site_id}/thresholds?unsure=0.9&spam=0.2&discard=1")
    assert page.status_code == 200 and "thresholds:" in page.text


def test_the_page_shows_the_latest_gate_report_with_both_models_plots(
    tiny_app: Flask,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    erin = _persona(tiny_app)
    _label(tiny_app.test_client(), erin.key, make_comments(120, seed=11))
    reports = tmp_path / "reports"
    tiny_app.config["REPORTS_DIR"] = str(reports)
    with tiny_app.app_context():
        settings = tiny_app.extensions["spamward.settings"]
        result = run_retrain(get_session(), settings.model_dir, reports, margin=1.0)
    client = tiny_app.test_client()
    sign_in(client, make_user(tiny_app, "zed", Role.ADMIN))
    page = client.get("/admin/").text
    assert f"Latest retraining: {result['version']}" in page and "Gate passed" in page
    for plot in ("roc.png", "precision_recall.png"):
        assert f"/admin/reports/{result['version']}/{plot}" in page
        image = client.get(f"/admin/reports/{result['version']}/{plot}")
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
        image.close()  # a file response holds its file open until closed
    assert client.get(f"/admin/reports/{result['version']}/metrics.json").status_code == 404
