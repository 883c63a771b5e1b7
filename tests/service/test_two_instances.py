"""Two service processes on one PostgreSQL database behave as one service."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from model import SpamModel
from service.cli import main
from service.models import Check

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            GUNICORN,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--config",
            "python:service.gunicorn_conf",
            "service:create_app()",
        ],
        env={**os.environ, "SPAMWARD_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("the service did not become ready")


@pytest.fixture
def instances(postgres_url: str) -> Iterator[tuple[str, str]]:
    from tests.service.conftest import _empty_postgres

    _empty_postgres(postgres_url)
    first, second = _start(postgres_url), _start(postgres_url)
    yield first[1], second[1]
    for process, _ in (first, second):
        process.terminate()
        process.wait(timeout=30)


def _form(key: str, text: str) -> dict[str, str]:
    return {
        "api_key": key,
        "blog": "https://dave.example",
        "user_ip": "192.0.2.9",
        "comment_content": text,
        "comment_author": "Dave",
    }


def test_a_key_made_once_works_on_both_and_checks_from_both_are_stored(
    instances: tuple[str, str], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAMWARD_DATABASE_URL", postgres_url)
    added = CliRunner().invoke(main, ["sites", "add", "https://dave.example"])
    key = added.output.split("API key: ")[1].split()[0]
    guids = []
    for base in instances:
        verify = httpx.post(
            f"{base}/1.1/verify-key", data={"key": key, "blog": "https://dave.example"}
        )
        assert verify.text == "valid"
        for n in range(5):
            answer = httpx.post(
                f"{base}/1.1/comment-check", data=_form(key, f"Nice post {n} {base}")
            )
            assert answer.text in ("true", "false")
            guids.append(answer.headers["X-akismet-guid"])
    # Checks are written behind the answer: they become visible within milliseconds.
    engine = create_engine(postgres_url)
    deadline = time.monotonic() + 10
    stored: set[str] = set()
    while time.monotonic() < deadline and len(stored) < 10:
        with engine.connect() as connection:
            stored = set(connection.execute(select(Check.guid)).scalars())
        time.sleep(0.05)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Check)).scalar_one() == 10
    engine.dispose()
    assert stored == set(guids)


def test_a_rotated_key_stops_working_on_both(
    instances: tuple[str, str], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAMWARD_DATABASE_URL", postgres_url)
    runner = CliRunner()
    old = runner.invoke(main, ["sites", "add", "https://dave.example"]).output
    old_key = old.split("API key: ")[1].split()[0]
    new = runner.invoke(main, ["sites", "rotate-key", "https://dave.example"]).output
    new_key = new.split("API key: ")[1].split()[0]
    time.sleep(2.5)  # the per-process site cache lives two seconds
    for base in instances:
        data = {"blog": "https://dave.example"}
        assert httpx.post(f"{base}/1.1/verify-key", data={**data, "key": old_key}).text == "invalid"
        assert httpx.post(f"{base}/1.1/verify-key", data={**data, "key": new_key}).text == "valid"


def _served_version(base: str, key: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/check",
        json={"comment_content": "Lovely photos, thanks", "user_ip": "192.0.2.9"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    version: str = answer.json()["model_version"]
    return version


def test_a_promotion_through_the_cli_switches_both_instances_within_seconds(
    instances: tuple[str, str],
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tiny_model: SpamModel,
    tiny_model_dir: Path,
) -> None:
    monkeypatch.setenv("SPAMWARD_DATABASE_URL", postgres_url)
    runner = CliRunner()
    added = runner.invoke(main, ["sites", "add", "https://dave.example"])
    key = added.output.split("API key: ")[1].split()[0]
    shipped = {_served_version(base, key) for base in instances}
    assert tiny_model.version not in shipped
    promoted = runner.invoke(main, ["models", "import", str(tiny_model_dir), "--promote"])
    assert promoted.exit_code == 0, promoted.output
    deadline = time.monotonic() + 15
    served = shipped
    while time.monotonic() < deadline and served != {tiny_model.version}:
        # Every answer in between comes from one model or the other, never an error.
        served = {_served_version(base, key) for base in instances}
        time.sleep(0.2)
    assert served == {tiny_model.version}
