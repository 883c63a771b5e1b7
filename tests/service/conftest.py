"""Service fixtures: a real app over a real database (SQLite file, or the PostgreSQL server).

Every service test runs twice, once per database. PostgreSQL tests use a database of their own,
created for the session on 127.0.0.1:5432 and emptied between tests.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from werkzeug.test import TestResponse

from model import DEFAULT_MODEL_DIR, Thresholds
from service import create_app
from service.db import get_session
from service.models import Base, Role, Site
from service.settings import Settings
from service.sites import add_site, set_thresholds
from service.users import add_user

POSTGRES_ADMIN_URL = os.environ.get(
    "SPAMWARD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"spamward_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure means there is no server to test against
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not usable: {exc}")
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each service test's database: a new SQLite file, or the emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'spamward.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


def _empty_postgres(url: str) -> None:
    from service.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Default settings on the test database and the shipped model."""
    # No site cache: tests change keys and rules between requests and expect it at once.
    # Checks stored in the request: tests read them right after (test_writer.py tests the other).
    # No webhook thread: test_webhooks.py delivers by hand, or turns it on where it tests it.
    return Settings(
        database_url=database_url,
        model_dir=DEFAULT_MODEL_DIR,
        site_cache_seconds=0,
        write_behind=False,
        model_poll_seconds=0,  # tests switch models with ModelHolder.refresh()
        webhooks=False,
        secret_key="a test secret key, never a real one",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The real app."""
    app = create_app({"TESTING": True, "SETTINGS": settings})
    yield app
    app.extensions["spamward.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass(frozen=True)
class Persona:
    """A site owner with a key: alice and bob are tenants, mallory has no valid key."""

    site_id: int
    url: str
    key: str


@pytest.fixture
def alice(app: Flask) -> Persona:
    with app.app_context():
        new = add_site(get_session(), "https://alice.example", "Alice's blog")
        return Persona(new.site.id, new.site.url, new.key)


@pytest.fixture
def bob(app: Flask) -> Persona:
    with app.app_context():
        new = add_site(get_session(), "https://bob.example", "Bob's news")
        return Persona(new.site.id, new.site.url, new.key)


MALLORY_KEY = "0" * 32


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `spamward` command line, as an admin runs it, on the test database."""
    monkeypatch.setenv("SPAMWARD_DATABASE_URL", database_url)
    # Else each command's app would write a key file into the project's instance folder.
    monkeypatch.setenv("SPAMWARD_SECRET_KEY", "a test secret key")
    return CliRunner()


# Moderation: people who sign in (carol sees every site, dave only alice's, erin is an admin).
PASSWORD = "correct horse battery staple"
# With these thresholds the model's answers are stable enough for tests to aim at a decision.
QUEUE_THRESHOLDS = Thresholds(unsure=0.35, spam=0.9, discard=1.0)
SPAM_TEXT = "Buy cheap viagra now at http://pills.example.shop"
UNSURE_TEXT = "Nice article"
HAM_TEXT = "Thanks, the part about connection pools was really useful."


def make_user(
    app: Flask, name: str, role: Role = Role.MODERATOR, site_ids: tuple[int, ...] = ()
) -> str:
    """Create a user who signs in with PASSWORD; return the name."""
    with app.app_context():
        session = get_session()
        sites = [session.get_one(Site, site_id) for site_id in site_ids]
        add_user(session, name, PASSWORD, role, sites)
    return name


@pytest.fixture
def carol(app: Flask) -> str:
    return make_user(app, "carol")


@pytest.fixture
def dave(app: Flask, alice: Persona) -> str:
    return make_user(app, "dave", site_ids=(alice.site_id,))


@pytest.fixture
def erin(app: Flask) -> str:
    return make_user(app, "erin", Role.ADMIN)


@pytest.fixture
def flagging(app: Flask, alice: Persona, bob: Persona) -> None:
    """Give alice's and bob's sites the queue thresholds (and no discarding)."""
    with app.app_context():
        session = get_session()
        for persona in (alice, bob):
            set_thresholds(session, session.get_one(Site, persona.site_id), QUEUE_THRESHOLDS)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page of ours hands out."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD) -> TestResponse:
    """Sign in through the real form."""
    return client.post(
        "/login", data={"csrf_token": csrf_token(client), "name": name, "password": password}
    )


def submit(client: FlaskClient, persona: Persona, content: str, **fields: str) -> dict[str, Any]:
    """Check one comment through the JSON API as the persona's site; return the answer."""
    response = client.post(
        "/api/v1/check",
        json={"comment_content": content, **fields},
        headers={"Authorization": f"Bearer {persona.key}"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.get_json()
    return answer
