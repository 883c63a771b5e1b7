"""The model registry: register, promote, roll back, and the running app switching models."""

from __future__ import annotations

import gc
import threading
import time
import types
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from model import DEFAULT_MODEL_DIR, SpamModel
from model.persistence import read_card
from service.cli import main
from service.context import get_model_holder
from service.db import get_session
from service.gunicorn_conf import post_worker_init, refreeze
from service.models import ModelVersion, Promotion
from service.registry import (
    NothingToRollBack,
    RegistryError,
    UnknownVersion,
    ensure_current_registered,
    promote,
    register,
    register_folder,
    rollback,
)
from tests.service.conftest import Persona
from tests.service.test_json_api import HAM, check

SHIPPED_VERSION = read_card(DEFAULT_MODEL_DIR).version


def _ok(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def _served_version(app: Flask) -> str:
    with app.app_context():
        return get_model_holder().get().version


def test_a_fresh_service_serves_its_model_folders_model(app: Flask) -> None:
    with app.app_context():
        holder = get_model_holder()
        assert holder.get().version == SHIPPED_VERSION
        assert holder.model_id is None


def test_models_list_says_when_nothing_is_registered(run: CliRunner) -> None:
    assert "no registered models" in _ok(run, "models", "list").output


def test_importing_a_model_registers_it_beside_the_shipped_champion(
    run: CliRunner, tiny_model: SpamModel, tiny_model_dir: Path
) -> None:
    _ok(run, "models", "import", str(tiny_model_dir))
    listing = _ok(run, "models", "list").output.splitlines()
    assert listing[0].startswith(f"  {tiny_model.version}\timport")
    assert listing[1].startswith(f"* {SHIPPED_VERSION}\tshipped")


def test_promoting_a_version_switches_the_running_app_at_its_next_refresh(
    app: Flask,
    client: FlaskClient,
    alice: Persona,
    run: CliRunner,
    tiny_model: SpamModel,
    tiny_model_dir: Path,
) -> None:
    _ok(run, "models", "import", str(tiny_model_dir))
    _ok(run, "models", "promote", tiny_model.version)
    assert check(client, alice.key, HAM)["model_version"] == SHIPPED_VERSION
    with app.app_context():
        assert get_model_holder().refresh() is True
    assert check(client, alice.key, HAM)["model_version"] == tiny_model.version


def test_rollback_returns_every_instance_to_the_previous_champion(
    app: Flask,
    client: FlaskClient,
    alice: Persona,
    run: CliRunner,
    tiny_model: SpamModel,
    tiny_model_dir: Path,
) -> None:
    _ok(run, "models", "import", str(tiny_model_dir), "--promote")
    assert "rolled back" in _ok(run, "models", "rollback").output
    with app.app_context():
        holder = get_model_holder()
        holder.refresh()
        assert holder.get().version == SHIPPED_VERSION
        actions = get_session().scalars(select(Promotion.action).order_by(Promotion.id)).all()
    assert actions == ["initial", "promote", "rollback"]
    assert check(client, alice.key, HAM)["model_version"] == SHIPPED_VERSION


def test_rollback_with_no_earlier_champion_is_refused(app: Flask, run: CliRunner) -> None:
    result = run.invoke(main, ["models", "rollback"])
    assert result.exit_code != 0 and "no earlier champion" in result.output
    with app.app_context(), pytest.raises(NothingToRollBack):
        rollback(get_session(), "test")


def test_promoting_an_unknown_version_is_refused_with_its_name(run: CliRunner) -> None:
    result = run.invoke(main, ["models", "promote", "no-such-model"])
    assert result.exit_code != 0
    assert "no model version 'no-such-model'" in result.output


def test_promoting_the_champion_again_is_refused(app: Flask) -> None:
    with app.app_context():
        session = get_session()
        ensure_current_registered(session, DEFAULT_MODEL_DIR)
        with pytest.raises(RegistryError, match="already the champion"):
            promote(session, SHIPPED_VERSION, "test")


def test_registering_bytes_that_do_not_match_the_card_is_refused(
    app: Flask, tiny_model_dir: Path
) -> None:
    card = read_card(tiny_model_dir)
    with app.app_context(), pytest.raises(RegistryError, match="sha256"):
        register(get_session(), card, b"not the artifact", "import")


def test_registering_the_same_folder_twice_gives_the_same_version(
    app: Flask, tiny_model_dir: Path
) -> None:
    with app.app_context():
        first = register_folder(get_session(), tiny_model_dir, "import")
        second = register_folder(get_session(), tiny_model_dir, "import")
        assert first.id == second.id


def _tamper(app: Flask, version: str) -> None:
    with app.app_context():
        session = get_session()
        session.execute(
            update(ModelVersion)
            .where(ModelVersion.version == version)
            .values(artifact=b"tampered bytes")
        )
        session.commit()


def test_a_tampered_artifact_cannot_be_promoted(
    app: Flask, tiny_model: SpamModel, tiny_model_dir: Path
) -> None:
    with app.app_context():
        ensure_current_registered(get_session(), DEFAULT_MODEL_DIR)
        register_folder(get_session(), tiny_model_dir, "import")
    _tamper(app, tiny_model.version)
    with app.app_context(), pytest.raises(RegistryError, match="sha256 mismatch"):
        promote(get_session(), tiny_model.version, "test")


def test_an_instance_keeps_its_model_when_the_new_champion_cannot_load(
    app: Flask, tiny_model: SpamModel, tiny_model_dir: Path
) -> None:
    with app.app_context():
        session = get_session()
        ensure_current_registered(session, DEFAULT_MODEL_DIR)
        register_folder(session, tiny_model_dir, "import")
        promote(session, tiny_model.version, "test")
    _tamper(app, tiny_model.version)  # e.g. a corrupted row after promotion
    with app.app_context():
        holder = get_model_holder()
        assert holder.refresh() is False
        assert holder.get().version == SHIPPED_VERSION


def test_promoting_an_unknown_version_raises_unknown_version(app: Flask) -> None:
    with app.app_context(), pytest.raises(UnknownVersion):
        promote(get_session(), "nope", "test")


def test_a_promotion_reaches_a_process_that_serves_no_request_meanwhile(
    app: Flask, run: CliRunner, tiny_model: SpamModel, tiny_model_dir: Path
) -> None:
    with app.app_context():
        holder = get_model_holder()
    holder.poll_seconds = 0.05
    try:
        assert holder.get().version == SHIPPED_VERSION  # the first request starts the poller
        _ok(run, "models", "import", str(tiny_model_dir), "--promote")
        deadline = time.monotonic() + 30
        while holder.get().version != tiny_model.version and time.monotonic() < deadline:
            time.sleep(0.05)  # no request in between: only the poller can switch it
        assert holder.get().version == tiny_model.version
    finally:
        holder.close()


def test_a_gunicorn_worker_freezes_what_it_loaded_and_refreezes_after_a_switch(
    app: Flask, run: CliRunner, tiny_model: SpamModel, tiny_model_dir: Path
) -> None:
    with app.app_context():
        holder = get_model_holder()
    try:
        post_worker_init(types.SimpleNamespace(wsgi=app))
        assert gc.get_freeze_count() > 0
        assert holder.after_switch is refreeze
        switches: list[str] = []
        holder.after_switch = lambda: switches.append(holder.get().version)
        _ok(run, "models", "import", str(tiny_model_dir), "--promote")
        assert holder.refresh() is True
        assert switches == [tiny_model.version]  # called once the new model is served
    finally:
        gc.unfreeze()


def test_refreeze_collects_the_unreachable_cycles_the_last_freeze_kept() -> None:
    collected = threading.Event()

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

        def __del__(self) -> None:
            collected.set()

    Node()
    gc.freeze()
    try:
        gc.collect()
        assert not collected.is_set()  # frozen: out of the collector's sight
        refreeze()
        assert collected.is_set()
    finally:
        gc.unfreeze()
