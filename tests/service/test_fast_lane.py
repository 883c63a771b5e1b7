"""The comment-check fast lane answers plain checks exactly as the Flask view would, and hands
everything else to Flask untouched."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import Client, EnvironBuilder, TestResponse

from service import create_app
from service.db import get_session
from service.fast_lane import FastLane, declared_charset
from service.models import Check
from service.settings import Settings
from tests.service.conftest import MALLORY_KEY, Persona
from tests.service.test_akismet_api import BLATANT_SPAM, FORM, HAM_TEXT, _form
from tests.service.test_json_api import bearer

CHECK = "/1.1/comment-check"
JSON_CHECK = "/api/v1/check"


class FlaskCalls:
    """Counts the requests the lane hands to Flask."""

    def __init__(self, lane: FastLane) -> None:
        self.count = 0
        self.flask_app = lane.flask_app
        lane.flask_app = self

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.count += 1
        return self.flask_app(environ, start_response)


@pytest.fixture
def lane(app: Flask) -> FastLane:
    assert isinstance(app.wsgi_app, FastLane)
    return app.wsgi_app


@pytest.fixture
def flask_calls(lane: FastLane) -> FlaskCalls:
    return FlaskCalls(lane)


@pytest.fixture
def flask_only(lane: FastLane) -> Client:
    """A client of the same app without the lane: every request through the Flask view."""
    return Client(lane.flask_app)


def _rows(app: Flask) -> list[Check]:
    with app.app_context():
        return list(get_session().scalars(select(Check).order_by(Check.id)))


def _comparable(response: TestResponse) -> tuple[int, str, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in response.headers.items() if k != "X-akismet-guid"]
    return response.status_code, response.text, headers


def _stored(check: Check) -> tuple[Any, ...]:
    return (
        check.site_id,
        check.via,
        check.fields,
        check.content,
        check.author,
        check.user_ip,
        check.probability,
        check.decision,
        check.discard,
        check.explanation,
        check.model_version,
        check.is_test,
    )


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"comment_content": BLATANT_SPAM},
        {"comment_author": "akismet-guaranteed-spam"},
        {"is_test": "1", "blog_charset": "UTF-8", "comment_context[]": "a"},
        {"honeypot_field_name": "trap", "trap": "filled", "comment_content": "Ça va? ✓"},
    ],
)
def test_the_lane_answers_and_stores_exactly_what_the_flask_view_does(
    app: Flask,
    client: FlaskClient,
    flask_only: Client,
    flask_calls: FlaskCalls,
    alice: Persona,
    extra: dict[str, str],
) -> None:
    form = _form(alice, **extra)
    by_lane = client.post(CHECK, data=form)
    by_flask = flask_only.post(CHECK, data=form)
    assert flask_calls.count == 0
    assert _comparable(by_lane) == _comparable(by_flask)
    assert by_lane.headers["X-akismet-guid"] != by_flask.headers["X-akismet-guid"]
    first, second = _rows(app)
    assert [first.guid, second.guid] == [
        by_lane.headers["X-akismet-guid"],
        by_flask.headers["X-akismet-guid"],
    ]
    assert _stored(first) == _stored(second)


def test_the_lane_decodes_a_form_posted_with_a_utf8_charset_like_flask(
    app: Flask, client: FlaskClient, flask_calls: FlaskCalls, alice: Persona
) -> None:
    body = urlencode(_form(alice, comment_content="Grüße aus Köln")).encode("utf-8")
    response = client.post(CHECK, data=body, content_type=f"{FORM}; charset=UTF-8")
    assert response.text in {"true", "false"}
    assert flask_calls.count == 0
    assert _rows(app)[0].content == "Grüße aus Köln"


@pytest.mark.parametrize(
    ("change", "body_says"),
    [
        ({"api_key": MALLORY_KEY}, "invalid"),
        ({"user_ip": ""}, "Missing required field: user_ip."),
        ({"comment_content": "x\x00y"}, "Invalid request."),
        ({"comment_content": "x" * (64 * 1024 + 1)}, "Comment too large."),
    ],
)
def test_checks_the_lane_cannot_answer_get_flasks_error_and_store_nothing(
    app: Flask,
    client: FlaskClient,
    flask_calls: FlaskCalls,
    alice: Persona,
    change: dict[str, str],
    body_says: str,
) -> None:
    response = client.post(CHECK, data={**_form(alice), **change})
    assert response.text == body_says
    assert response.headers["X-akismet-debug-help"]
    assert flask_calls.count == 1
    assert _rows(app) == []


def test_a_form_in_another_charset_goes_to_flask_which_decodes_it(
    app: Flask, client: FlaskClient, flask_calls: FlaskCalls, alice: Persona
) -> None:
    body = urlencode(_form(alice, comment_content="Café crème"), encoding="latin-1").encode()
    response = client.post(CHECK, data=body, content_type=f"{FORM}; charset=ISO-8859-1")
    assert response.text in {"true", "false"}
    assert flask_calls.count == 1
    assert _rows(app)[0].content == "Café crème"


def test_a_key_in_the_host_name_goes_to_flask(
    app: Flask, client: FlaskClient, flask_calls: FlaskCalls, alice: Persona
) -> None:
    form = {k: v for k, v in _form(alice).items() if k != "api_key"}
    response = client.post(CHECK, data=form, base_url=f"http://{alice.key}.spam.example")
    assert response.text in {"true", "false"}
    assert flask_calls.count == 1
    assert len(_rows(app)) == 1


def test_other_paths_and_methods_go_to_flask(
    client: FlaskClient, flask_calls: FlaskCalls, alice: Persona
) -> None:
    assert client.get(CHECK).status_code == 405
    assert client.post("/1.1/verify-key", data=_form(alice)).text == "valid"
    assert flask_calls.count == 2


def test_a_body_without_a_length_goes_to_flask(
    app: Flask, lane: FastLane, flask_calls: FlaskCalls, alice: Persona
) -> None:
    body = urlencode(_form(alice, comment_content=HAM_TEXT)).encode()
    environ = EnvironBuilder(method="POST", path=CHECK, data=body, content_type=FORM).get_environ()
    # What a server gives for a chunked upload: no length, a stream that ends.
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    statuses: list[str] = []
    answer = b"".join(lane(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"]
    assert answer in {b"true", b"false"}
    assert flask_calls.count == 1
    assert len(_rows(app)) == 1


def test_the_lane_can_be_switched_off(settings: Settings) -> None:
    app = create_app({"TESTING": True, "SETTINGS": replace(settings, fast_lane=False)})
    try:
        assert not isinstance(app.wsgi_app, FastLane)
    finally:
        app.extensions["spamward.engine"].dispose()


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("", ""),
        (FORM, ""),
        ("Application/X-WWW-Form-Urlencoded", ""),
        (f"{FORM}; charset=UTF-8", "UTF-8"),
        (f'{FORM}; charset="utf-8"', "utf-8"),
        (f"{FORM}; charset=latin-1", "latin-1"),
        ("multipart/form-data; boundary=x", None),
        ("application/json", None),
        (f"{FORM}; boundary=x", None),
        (f"{FORM}; charset=utf-8; x=y", None),
    ],
)
def test_declared_charset_reads_only_plain_form_content_types(
    content_type: str, charset: str | None
) -> None:
    assert declared_charset(content_type) == charset


# The JSON API's POST /api/v1/check


def _json_comment(**extra: str) -> dict[str, str]:
    return {"comment_content": HAM_TEXT, "user_ip": "192.0.2.1", "comment_author": "Sam", **extra}


@pytest.mark.parametrize("query", ["", "?explain=false", "?explain=1"])
@pytest.mark.parametrize(
    "extra",
    [{}, {"comment_content": BLATANT_SPAM}, {"comment_author": "akismet-guaranteed-spam"}],
)
def test_the_lane_answers_a_json_check_exactly_as_the_flask_view_does(
    app: Flask,
    client: FlaskClient,
    flask_only: Client,
    flask_calls: FlaskCalls,
    alice: Persona,
    extra: dict[str, str],
    query: str,
) -> None:
    comment = _json_comment(**extra)
    by_lane = client.post(JSON_CHECK + query, json=comment, headers=bearer(alice.key))
    by_flask = flask_only.post(JSON_CHECK + query, json=comment, headers=bearer(alice.key))
    assert flask_calls.count == 0
    assert by_lane.status_code == by_flask.status_code == 200
    assert by_lane.headers["Content-Type"] == by_flask.headers["Content-Type"]
    lane_body, flask_body = by_lane.get_json(), by_flask.get_json()
    assert list(lane_body) == list(flask_body)  # same keys, same order
    for distinct in ("id", "guid"):
        assert lane_body.pop(distinct) != flask_body.pop(distinct)
    assert lane_body == flask_body
    first, second = _rows(app)
    assert _stored(first) == _stored(second)


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Authorization": f"Bearer {MALLORY_KEY}"}, b'{"comment_content": "x"}', 401),
        ({"Authorization": "Basic abc"}, b'{"comment_content": "x"}', 401),
        ({}, b'{"comment_content": "x"}', 401),
        (None, b'{"comment_content": ', 400),
        (None, b'{"comment_author": "no content"}', 400),
        (None, b'{"comment_content": 5}', 400),
        (None, b"\xff\xfe not utf-8", 400),
    ],
)
def test_json_checks_the_lane_cannot_answer_get_flasks_error_and_store_nothing(
    app: Flask,
    client: FlaskClient,
    flask_calls: FlaskCalls,
    alice: Persona,
    headers: dict[str, str] | None,
    body: bytes,
    status: int,
) -> None:
    sent = bearer(alice.key) if headers is None else headers
    response = client.post(JSON_CHECK, data=body, headers=sent, content_type="application/json")
    assert response.status_code == status
    assert response.get_json()["error"]
    assert flask_calls.count == 1
    assert _rows(app) == []


@pytest.mark.parametrize(
    ("query", "status"),
    [("?explain=False", 200), ("?explain=false&explain=true", 200), ("?explain=maybe", 400)],
)
def test_json_checks_with_other_query_strings_go_to_flask(
    app: Flask,
    client: FlaskClient,
    flask_calls: FlaskCalls,
    alice: Persona,
    query: str,
    status: int,
) -> None:
    response = client.post(JSON_CHECK + query, json=_json_comment(), headers=bearer(alice.key))
    assert response.status_code == status
    assert flask_calls.count == 1
    assert len(_rows(app)) == (status == 200)


@pytest.mark.parametrize("debug", [False, True])
def test_the_lanes_json_answer_has_jsonifys_exact_bytes_and_headers(
    app: Flask, lane: FastLane, debug: bool
) -> None:
    data = {"id": 7, "decision": "spam", "explanation": {"tokens": [{"token": "ünï", "w": 0.5}]}}
    app.debug = debug
    headers, body = lane._json_answer(data)
    with app.app_context():
        expected = app.json.response(data)
    assert isinstance(expected, Response)
    assert body == expected.get_data()
    assert headers == list(expected.headers.items())


def test_a_json_check_with_a_byte_order_mark_goes_to_flask_which_answers_it(
    app: Flask, client: FlaskClient, flask_calls: FlaskCalls, alice: Persona
) -> None:
    body = b"\xef\xbb\xbf" + json.dumps(_json_comment()).encode()
    response = client.post(
        JSON_CHECK, data=body, headers=bearer(alice.key), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.get_json()["decision"] in ("ham", "unsure", "spam")
    assert flask_calls.count == 1
    assert len(_rows(app)) == 1
