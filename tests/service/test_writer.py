"""Write-behind: checks stored from a background thread, many per transaction."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from model import Decision
from service import create_app
from service.checking import Verdict, check_row
from service.db import get_session
from service.models import Check
from service.settings import Settings
from service.writer import CheckWriter, WriterBacklogged
from tests.service.conftest import Persona
from tests.service.test_json_api import API, bearer, check


def _rows(app: Flask, site_id: int, count: int) -> list[dict[str, Any]]:
    verdict = Verdict(0.1, Decision.HAM, False, {"tokens": [], "signals": [], "rules": []})
    ids = app.extensions["spamward.check_ids"].take(count)
    return [
        check_row(
            site_id,
            {"comment_content": f"hello {n}", "user_ip": "192.0.2.1"},
            verdict,
            "test-model",
            "akismet",
            check_id=ids[n],
        )
        for n in range(count)
    ]


def writer_of(app: Flask, **options: Any) -> CheckWriter:
    """A check writer on the app's database and id supply."""
    return CheckWriter(
        app.extensions["spamward.engine"], app.extensions["spamward.check_ids"], **options
    )


def _count(app: Flask) -> int:
    with app.app_context():
        return int(get_session().scalar(select(func.count()).select_from(Check)) or 0)


def _form(persona: Persona, text: str) -> dict[str, str]:
    """A comment-check form for one comment of `persona`'s site."""
    return {
        "api_key": persona.key,
        "blog": persona.url,
        "user_ip": "192.0.2.1",
        "comment_content": text,
    }


def _write_behind_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "SETTINGS": dataclasses.replace(settings, write_behind=True)}
    )
    yield app
    app.extensions["spamward.engine"].dispose()


@pytest.fixture
def behind(settings: Settings) -> Iterator[Flask]:
    """A second app on the same database, storing checks write-behind."""
    yield from _write_behind_app(settings)


@pytest.fixture
def other(settings: Settings) -> Iterator[Flask]:
    """Another app on the same database, write-behind too: another process's view of it."""
    yield from _write_behind_app(settings)


def test_flush_waits_until_every_submitted_row_is_stored(app: Flask, alice: Persona) -> None:
    writer = writer_of(app, max_rows=7)
    for row in _rows(app, alice.site_id, 100):
        writer.submit(row)
    assert writer.flush(timeout=30)
    assert _count(app) == 100


def test_a_row_the_database_refuses_is_dropped_alone(app: Flask, alice: Persona) -> None:
    writer = writer_of(app)
    rows = _rows(app, alice.site_id, 5)
    rows[2]["guid"] = rows[1]["guid"]  # a duplicate guid breaks the unique constraint
    for row in rows:
        writer.submit(row)
    assert writer.flush(timeout=30)
    assert _count(app) == 4


def test_comment_check_with_write_behind_stores_every_answered_check(
    behind: Flask, alice: Persona, app: Flask
) -> None:
    client = behind.test_client()
    guids = []
    for n in range(30):
        answer = client.post(
            "/1.1/comment-check",
            data=_form(alice, f"Lovely recipe, thanks {n}"),
        )
        guids.append(answer.headers["X-akismet-guid"])
    behind.extensions["spamward.writer"].close()
    with app.app_context():
        stored = set(get_session().scalars(select(Check.guid)))
    assert stored == set(guids)


def test_submit_spam_finds_a_check_still_queued_in_this_process(
    behind: Flask, alice: Persona, app: Flask
) -> None:
    client = behind.test_client()
    form = _form(alice, f"Totally normal comment {uuid.uuid4()}")
    guid = client.post("/1.1/comment-check", data=form).headers["X-akismet-guid"]
    assert client.post("/1.1/submit-spam", data=form).text.startswith("Thanks")
    behind.extensions["spamward.writer"].close()
    with app.app_context():
        checks = get_session().scalars(select(Check)).all()
    assert [(c.guid, c.label) for c in checks] == [(guid, "spam")]


def test_akismet_checks_defer_their_explanation_until_read(
    client: FlaskClient, alice: Persona, app: Flask
) -> None:
    form = _form(alice, "Buy cheap viagra now http://pills.example.shop")
    client.post("/1.1/comment-check", data=form)
    with app.app_context():
        check = get_session().scalars(select(Check)).one()
        assert check.explanation == {"deferred": True, "rules": []}
    shown = client.get(
        f"/api/v1/comments/{check.id}", headers={"Authorization": f"Bearer {alice.key}"}
    ).json
    assert shown is not None
    tokens = [t["token"] for t in shown["explanation"]["tokens"]]
    assert "viagra" in tokens
    assert "deferred" not in shown["explanation"]


def test_a_deferred_explanation_from_another_model_says_it_is_unavailable(
    client: FlaskClient, alice: Persona, app: Flask
) -> None:
    form = _form(alice, "Nice post")
    client.post("/1.1/comment-check", data=form)
    with app.app_context():
        session = get_session()
        check = session.scalars(select(Check)).one()
        check.model_version = "20200101-000000-deadbeef"
        session.commit()
        check_id = check.id
    shown = client.get(
        f"/api/v1/comments/{check_id}", headers={"Authorization": f"Bearer {alice.key}"}
    ).json
    assert shown is not None
    assert "20200101-000000-deadbeef" in shown["explanation"]["unavailable"]


def test_a_full_backlog_refuses_rows_and_checks_are_then_stored_in_line(
    behind: Flask, alice: Persona, app: Flask
) -> None:
    writer = writer_of(behind, max_pending=0)
    behind.extensions["spamward.writer"] = writer
    with pytest.raises(WriterBacklogged):
        writer.submit(_rows(behind, alice.site_id, 1)[0])
    answer = behind.test_client().post(
        "/1.1/comment-check",
        data=_form(alice, "Stored in-line"),
    )
    with app.app_context():
        stored = get_session().scalars(select(Check.guid)).all()
    assert stored == [answer.headers["X-akismet-guid"]]


def test_a_json_check_stored_behind_answers_its_id_and_can_be_read_by_it(
    behind: Flask, alice: Persona
) -> None:
    client = behind.test_client()
    first = check(client, alice.key, {"comment_content": "Queued one", "user_ip": "192.0.2.1"})
    second = check(client, alice.key, {"comment_content": "Queued two", "user_ip": "192.0.2.1"})
    assert isinstance(first["id"], int) and first["id"] != second["id"]
    read = client.get(f"{API}/comments/{second['id']}", headers=bearer(alice.key))
    assert read.status_code == 200
    assert read.get_json()["guid"] == second["guid"]
    assert _count(behind) == 2


def test_feedback_right_after_a_check_in_another_process_labels_that_check(
    behind: Flask, other: Flask, alice: Persona
) -> None:
    form = _form(alice, "Checked here, reported there at once")
    guid = behind.test_client().post("/1.1/comment-check", data=form).headers["X-akismet-guid"]
    # The check waits in the first app's writer; the second app must still find it.
    assert other.test_client().post("/1.1/submit-spam", data=form).text.startswith("Thanks")
    with behind.app_context():
        rows = get_session().execute(select(Check.guid, Check.label)).all()
    assert [tuple(r) for r in rows] == [(guid, "spam")]


def test_a_json_check_is_readable_at_once_through_another_process(
    behind: Flask, other: Flask, alice: Persona
) -> None:
    comment = {"comment_content": "Answered here, read there at once", "user_ip": "192.0.2.1"}
    answer = check(behind.test_client(), alice.key, comment)
    # The row waits in the first app's writer for its window; the second app waits for it.
    read = other.test_client().get(f"{API}/comments/{answer['id']}", headers=bearer(alice.key))
    assert read.status_code == 200
    assert read.get_json()["guid"] == answer["guid"]


def test_an_id_never_handed_out_is_not_found_without_waiting_a_window(
    behind: Flask, alice: Persona
) -> None:
    client = behind.test_client()
    answer = check(client, alice.key, {"comment_content": "One real check", "user_ip": "192.0.2.1"})
    started = time.monotonic()
    read = client.get(f"{API}/comments/{answer['id'] + 10_000}", headers=bearer(alice.key))
    assert read.status_code == 404
    assert time.monotonic() - started < behind.extensions["spamward.writer"].gather_seconds


def test_another_sites_stored_check_is_not_found_without_waiting_a_window(
    behind: Flask, alice: Persona, bob: Persona
) -> None:
    client = behind.test_client()
    answer = check(client, alice.key, {"comment_content": "Alice's own", "user_ip": "192.0.2.1"})
    behind.extensions["spamward.writer"].flush()
    started = time.monotonic()
    read = client.get(f"{API}/comments/{answer['id']}", headers=bearer(bob.key))
    assert read.status_code == 404
    assert time.monotonic() - started < behind.extensions["spamward.writer"].gather_seconds


def test_flush_cuts_the_gathering_window_short(app: Flask, alice: Persona) -> None:
    writer = writer_of(app, gather_seconds=30)
    for row in _rows(app, alice.site_id, 3):
        writer.submit(row)
    started = time.monotonic()
    assert writer.flush(timeout=10)
    assert time.monotonic() - started < 10
    assert _count(app) == 3
