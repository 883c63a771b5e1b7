"""`spamward retrain`: labelled checks in, a judged challenger out, the champion safe on failure."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from model import SpamModel
from service import create_app
from service.context import get_model_holder
from service.db import get_session
from service.jobs import RETRAIN_JOB, STALE_AFTER, JobAlreadyRunning, running_job, start_job
from service.models import Job, ModelVersion, utc_now
from service.registry import champion
from service.retraining import RetrainError, labelled_checks, run_retrain
from service.settings import Settings
from tests.factories import make_comments
from tests.service.conftest import Persona
from tests.service.test_json_api import bearer

API = "/api/v1"


@pytest.fixture
def tiny_app(settings: Settings, tiny_model_dir: Path) -> Iterator[Flask]:
    """The app serving the tiny model, so that a retraining takes seconds."""
    app = create_app(
        {"TESTING": True, "SETTINGS": dataclasses.replace(settings, model_dir=tiny_model_dir)}
    )
    yield app
    app.extensions["spamward.engine"].dispose()


def _label(
    client: FlaskClient, key: str, comments: Sequence[tuple[Mapping[str, str], int]]
) -> None:
    """Check each comment through the JSON API, then give the site's label as feedback."""
    answer = client.post(
        f"{API}/check/batch?explain=false",
        json={"comments": [c for c, _ in comments]},
        headers=bearer(key),
    )
    assert answer.status_code == 200, answer.get_json()
    for result, (_, label) in zip(answer.get_json()["checks"], comments, strict=True):
        feedback = client.post(
            f"{API}/comments/{result['id']}/feedback",
            json={"label": "spam" if label else "ham"},
            headers=bearer(key),
        )
        assert feedback.status_code == 200


def _retrain(app: Flask, tmp_path: Path, **options: Any) -> dict[str, Any]:
    with app.app_context():
        settings = app.extensions["spamward.settings"]
        return run_retrain(get_session(), settings.model_dir, tmp_path / "reports", **options)


def _persona(app: Flask) -> Persona:
    from service.sites import add_site

    with app.app_context():
        new = add_site(get_session(), "https://erin.example", "Erin's forum")
        return Persona(new.site.id, new.site.url, new.key)


def test_labelled_checks_leave_out_test_checks_and_unlabelled_ones(
    tiny_app: Flask, tmp_path: Path
) -> None:
    erin = _persona(tiny_app)
    client = tiny_app.test_client()
    _label(client, erin.key, [({"comment_content": "kept", "user_ip": "192.0.2.1"}, 1)])
    test_check = {"comment_content": "a test", "user_ip": "192.0.2.1", "is_test": "1"}
    _label(client, erin.key, [(test_check, 0)])
    client.post(
        f"{API}/check", json={"comment_content": "never labelled"}, headers=bearer(erin.key)
    )
    with tiny_app.app_context():
        found = labelled_checks(get_session())
    assert [item.comment["comment_content"] for item in found] == ["kept"]


def test_a_retraining_with_too_few_labels_fails_and_keeps_the_champion(
    tiny_app: Flask, tmp_path: Path
) -> None:
    with pytest.raises(RetrainError, match="at least 40 labelled checks"):
        _retrain(tiny_app, tmp_path)
    with tiny_app.app_context():
        session = get_session()
        job = session.scalars(select(Job)).one()
        assert job.status == "failed" and job.lock is None
        assert "at least 40 labelled checks" in (job.error or "")
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 1  # the initial
        assert running_job(session, RETRAIN_JOB) is None


def test_a_retraining_registers_a_judged_challenger_with_a_report(
    tiny_app: Flask, tmp_path: Path, tiny_model: SpamModel
) -> None:
    erin = _persona(tiny_app)
    _label(tiny_app.test_client(), erin.key, make_comments(120, seed=7))
    result = _retrain(tiny_app, tmp_path)
    assert result["champion_version"] == tiny_model.version
    assert result["labels"] == {"training": 96, "held_out": 24}
    for model in ("champion", "challenger"):
        assert 0.0 <= result[model]["roc_auc"] <= 1.0
        assert 0.0 <= result[model]["spam_caught_at_gate_blocked_ham"] <= 1.0
    assert result["gate"]["reasons"] and isinstance(result["gate"]["passed"], bool)
    report = Path(result["report_dir"])
    assert (report / "index.html").read_text().count("challenger") >= 1
    assert (report / "roc.png").stat().st_size > 0
    with tiny_app.app_context():
        session = get_session()
        challenger = session.scalar(
            select(ModelVersion).where(ModelVersion.version == result["version"])
        )
        assert challenger is not None and challenger.origin == "retrain"
        live = champion(session)
        assert live is not None
        expected = result["version"] if result["promoted"] else tiny_model.version
        assert live.version == expected
        assert session.scalars(select(Job)).one().status == "succeeded"


def test_a_promoted_challenger_is_served_after_the_next_refresh(
    tiny_app: Flask, tmp_path: Path
) -> None:
    erin = _persona(tiny_app)
    _label(tiny_app.test_client(), erin.key, make_comments(120, seed=8))
    result = _retrain(tiny_app, tmp_path, margin=1.0)  # a margin of 1 always passes
    assert result["promoted"] is True
    with tiny_app.app_context():
        holder = get_model_holder()
        assert holder.refresh() is True
        assert holder.get().version == result["version"]


def test_a_challenger_that_passes_is_not_promoted_when_told_not_to(
    tiny_app: Flask, tmp_path: Path, tiny_model: SpamModel
) -> None:
    erin = _persona(tiny_app)
    _label(tiny_app.test_client(), erin.key, make_comments(120, seed=9))
    result = _retrain(tiny_app, tmp_path, margin=1.0, promote_if_better=False)
    assert result["gate"]["passed"] is True and result["promoted"] is False
    with tiny_app.app_context():
        live = champion(get_session())
        assert live is not None and live.version == tiny_model.version


def test_a_second_retraining_is_refused_while_one_runs(tiny_app: Flask, tmp_path: Path) -> None:
    with tiny_app.app_context():
        start_job(get_session(), RETRAIN_JOB, "alice")
    with pytest.raises(JobAlreadyRunning, match="is running"):
        _retrain(tiny_app, tmp_path)


def test_a_job_whose_process_died_is_marked_failed_and_frees_the_lock(tiny_app: Flask) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    with tiny_app.app_context():
        session = get_session()
        job = start_job(session, RETRAIN_JOB, "alice")
        job.pid = dead.pid
        session.commit()
        assert running_job(session, RETRAIN_JOB) is None
        session.refresh(job)
        assert job.status == "failed" and job.lock is None
        assert "interrupted" in (job.error or "")
        start_job(session, RETRAIN_JOB, "bob")  # the lock is free again


def test_a_job_on_another_host_is_judged_by_its_heartbeat(tiny_app: Flask) -> None:
    with tiny_app.app_context():
        session = get_session()
        job = start_job(session, RETRAIN_JOB, "alice")
        job.host = "another-host"
        session.commit()
        session.expire_all()  # read the times back as the database gives them
        assert running_job(session, RETRAIN_JOB) is not None  # its heartbeat is fresh
        job.heartbeat_at = utc_now() - STALE_AFTER - timedelta(seconds=1)
        session.commit()
        session.expire_all()
        assert running_job(session, RETRAIN_JOB) is None
        session.refresh(job)
        assert job.status == "failed"


def test_a_retraining_interrupted_mid_training_leaves_the_champion_and_no_version(
    tiny_app: Flask, tmp_path: Path, tiny_model: SpamModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    erin = _persona(tiny_app)
    _label(tiny_app.test_client(), erin.key, make_comments(120, seed=10))

    def interrupted(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("training.retrain.train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _retrain(tiny_app, tmp_path, margin=1.0)
    with tiny_app.app_context():
        session = get_session()
        versions = session.scalars(select(ModelVersion.version)).all()
        assert versions == [tiny_model.version]
        live = champion(session)
        assert live is not None and live.version == tiny_model.version
        job = session.scalars(select(Job)).one()
        assert job.status == "failed" and job.lock is None


def test_a_retraining_started_in_the_background_records_its_job_and_its_failure(
    tiny_app: Flask, tmp_path: Path, settings: Settings, tiny_model_dir: Path
) -> None:
    from service.jobs import spawn_retrain

    pid = spawn_retrain(settings.database_url, str(tiny_model_dir), tmp_path / "logs", "alice")
    assert pid > 0
    deadline = time.monotonic() + 120
    job = None
    while time.monotonic() < deadline:
        with tiny_app.app_context():
            job = get_session().scalars(select(Job)).one_or_none()
            if job is not None and job.status != "running":
                break
        time.sleep(0.5)
    assert job is not None, (tmp_path / "logs").iterdir().__next__().read_text()
    assert job.actor == "alice"
    assert job.status == "failed" and "labelled checks" in (job.error or "")
