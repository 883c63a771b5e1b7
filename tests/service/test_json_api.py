"""The JSON API under /api/v1: checks, batches, stored checks, feedback, errors, OpenAPI."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select, text
from werkzeug.test import TestResponse

from service import create_app
from service.context import get_model
from service.db import get_session
from service.models import Check, RuleField, RuleList
from service.settings import Settings
from service.sites import add_rule, add_site, find_site
from tests.service.conftest import MALLORY_KEY, Persona

API = "/api/v1"
OPENAPI_FILE = Path(__file__).resolve().parents[2] / "service" / "openapi.json"
DOCUMENT_URI = "urn:spamward:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
MISSING_KEY = "missing API key: send Authorization: Bearer <key>"

HAM = {
    "comment_content": "Thanks for the clear write-up, the section on migrations helped me a lot.",
    "comment_author": "Anna",
    "comment_author_email": "anna@example.org",
    "user_ip": "203.0.113.5",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
}
SPAM = {
    "comment_content": "Buy cheap viagra online, no prescription http://cheap-meds-rx.example.shop",
    "comment_author": "Cheap Meds Online",
    "comment_author_url": "http://cheap-meds-rx.example.shop",
    "user_ip": "198.51.100.9",
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def stored_checks(app: Flask) -> int:
    with app.app_context():
        return int(get_session().scalar(select(func.count()).select_from(Check)) or 0)


def stored_check(app: Flask, check_id: int) -> Check:
    with app.app_context():
        check = get_session().get(Check, check_id)
        assert check is not None
        return check


def check(client: FlaskClient, key: str, comment: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}/check", json=comment, headers=bearer(key))
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def batch(
    client: FlaskClient, key: str, comments: list[dict[str, Any]], query: str = ""
) -> TestResponse:
    return client.post(
        f"{API}/check/batch{query}", json={"comments": comments}, headers=bearer(key)
    )


def error_of(response: TestResponse) -> str:
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    message: str = body["error"]
    return message


# POST /check


def test_check_returns_the_models_verdict_and_stores_it(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    result = check(client, alice.key, SPAM)

    with app.app_context():
        expected = get_model().check({k: v for k, v in SPAM.items() if v})
    assert set(result) == {
        "id",
        "guid",
        "probability",
        "decision",
        "discard",
        "explanation",
        "model_version",
    }
    assert result["probability"] == pytest.approx(expected.probability)
    assert result["decision"] == expected.decision.value
    assert result["model_version"] == expected.model_version
    assert result["explanation"]["tokens"]
    stored = stored_check(app, result["id"])
    assert (stored.guid, stored.via, stored.site_id) == (result["guid"], "api", alice.site_id)
    assert stored.fields == SPAM


@pytest.mark.parametrize(
    "query", ["?explain=false", "?explain=0", "?explain=NO", "?explain=false&x=1"]
)
def test_check_without_explanation_keeps_the_probability_and_decision(
    client: FlaskClient, alice: Persona, query: str
) -> None:
    explained = check(client, alice.key, SPAM)
    response = client.post(f"{API}/check{query}", json=SPAM, headers=bearer(alice.key))

    assert response.status_code == 200
    plain = response.get_json()
    assert list(plain) == list(explained)
    assert plain["probability"] == pytest.approx(explained["probability"], abs=1e-12)
    assert (plain["decision"], plain["discard"]) == (explained["decision"], explained["discard"])
    assert plain["explanation"] == {"tokens": [], "signals": [], "rules": []}
    assert explained["explanation"]["tokens"]


def test_a_check_answered_without_explanation_is_explained_when_read(
    client: FlaskClient, alice: Persona
) -> None:
    explained = check(client, alice.key, SPAM)
    response = client.post(f"{API}/check?explain=false", json=SPAM, headers=bearer(alice.key))
    read = client.get(f"{API}/comments/{response.get_json()['id']}", headers=bearer(alice.key))

    assert read.status_code == 200
    assert read.get_json()["explanation"] == explained["explanation"]


def test_a_rule_that_decides_an_unexplained_check_is_still_named(
    client: FlaskClient, alice: Persona
) -> None:
    trigger = {**HAM, "user_role": "administrator"}
    response = client.post(f"{API}/check?explain=false", json=trigger, headers=bearer(alice.key))
    assert response.get_json()["explanation"] == {
        "tokens": [],
        "signals": [],
        "rules": ["test trigger: user_role=administrator"],
    }


def test_a_check_with_a_bad_explain_parameter_is_refused(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    response = client.post(f"{API}/check?explain=maybe", json=HAM, headers=bearer(alice.key))
    assert response.status_code == 400
    assert error_of(response) == "explain must be true or false, got 'maybe'"
    assert stored_checks(app) == 0


def test_check_tells_ham_from_spam(client: FlaskClient, alice: Persona) -> None:
    assert check(client, alice.key, HAM)["decision"] == "ham"
    assert check(client, alice.key, SPAM)["decision"] == "spam"


def test_check_accepts_empty_content_and_keeps_unknown_keys(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    comment = {"comment_content": "", "comment_context": "gardening, tomatoes", "x-extra": "1"}
    result = check(client, alice.key, comment)
    assert stored_check(app, result["id"]).fields == comment


def test_guaranteed_spam_author_is_spam_whatever_the_text(
    client: FlaskClient, alice: Persona
) -> None:
    result = check(client, alice.key, {**HAM, "comment_author": "akismet-guaranteed-spam"})
    assert (result["decision"], result["probability"]) == ("spam", 1.0)
    assert result["explanation"]["rules"] == ["test trigger: guaranteed spam"]


def test_administrator_role_is_ham_whatever_the_text(client: FlaskClient, alice: Persona) -> None:
    result = check(client, alice.key, {**SPAM, "user_role": "administrator"})
    assert (result["decision"], result["probability"]) == ("ham", 0.0)


def test_a_filled_honeypot_field_is_spam(client: FlaskClient, alice: Persona) -> None:
    result = check(client, alice.key, {**HAM, "honeypot_field_name": "hp_url", "hp_url": "x"})
    assert result["decision"] == "spam"
    assert "honeypot" in result["explanation"]["rules"][0]


def test_is_test_true_is_stored_as_a_test(app: Flask, client: FlaskClient, alice: Persona) -> None:
    test_id = check(client, alice.key, {**HAM, "is_test": "true"})["id"]
    real_id = check(client, alice.key, HAM)["id"]
    assert stored_check(app, test_id).is_test is True
    assert stored_check(app, real_id).is_test is False
    view = client.get(f"{API}/comments/{test_id}", headers=bearer(alice.key)).get_json()
    assert view["is_test"] is True


def test_a_check_with_non_ascii_text_is_answered_and_stored_as_utf8_json(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    comment = {**HAM, "comment_content": "Très bon article ✓", "comment_author": "Zoë"}
    result = check(client, alice.key, comment)
    stored = stored_check(app, result["id"])
    assert stored.fields["comment_content"] == "Très bon article ✓"
    assert stored.explanation == result["explanation"]
    with app.app_context():
        query = text("SELECT CAST(fields AS TEXT) FROM checks WHERE id = :id")
        raw = get_session().scalar(query, result)
    # orjson's text: UTF-8, no \\u escapes (PostgreSQL's json type keeps the text as given)
    assert '"comment_author":"Zoë"' in raw


def test_a_site_block_rule_decides_spam(app: Flask, client: FlaskClient, alice: Persona) -> None:
    with app.app_context():
        session = get_session()
        add_rule(
            session, find_site(session, alice.url), RuleList.BLOCK, RuleField.KEYWORD, "write-up"
        )
    result = check(client, alice.key, HAM)
    assert result["decision"] == "spam"
    assert result["explanation"]["rules"] == ["block keyword=write-up decided spam"]


# POST /check/batch


def _mixed_comments(count: int) -> list[dict[str, str]]:
    variants = [
        HAM,
        SPAM,
        {**HAM, "comment_author": "akismet-guaranteed-spam"},
        {**SPAM, "user_role": "administrator"},
        {**HAM, "honeypot_field_name": "hp", "hp": "filled"},
        {**HAM, "is_test": "1"},
    ]
    picked = [variants[i % len(variants)] for i in range(count)]
    return [{**v, "comment_content": f"{v['comment_content']} {i}"} for i, v in enumerate(picked)]


def test_batch_stores_every_comment_and_answers_in_order(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    comments = _mixed_comments(25)
    response = batch(client, alice.key, comments)

    assert response.status_code == 200
    items = response.get_json()["checks"]
    assert len(items) == 25
    assert stored_checks(app) == 25
    assert len({item["guid"] for item in items}) == 25
    for comment, item in zip(comments, items, strict=True):
        stored = stored_check(app, item["id"])
        assert (stored.fields, stored.guid, stored.via) == (comment, item["guid"], "api")
        assert stored.decision == item["decision"]


def test_batch_decides_each_comment_as_a_single_check_would(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    with app.app_context():
        session = get_session()
        add_rule(
            session, find_site(session, alice.url), RuleList.ALLOW, RuleField.IP, "198.51.100.0/24"
        )
    comments = _mixed_comments(12)
    singles = [check(client, alice.key, comment) for comment in comments]
    items = batch(client, alice.key, comments).get_json()["checks"]

    volatile = {"id", "guid"}
    for single, item in zip(singles, items, strict=True):
        assert {k: v for k, v in item.items() if k not in volatile} == {
            k: v for k, v in single.items() if k not in volatile
        }
    assert {item["decision"] for item in items} == {"ham", "spam"}
    assert any(i["explanation"]["rules"] == ["allow ip=198.51.100.0/24 decided ham"] for i in items)


def test_batch_stores_the_same_columns_as_a_single_check(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    comment = {
        **SPAM,
        "comment_author": "A" * 600,
        "user_ip": "2001:db8::" + "f" * 70,
        "is_test": "on",
    }
    single_id = check(client, alice.key, comment)["id"]
    batch_id = batch(client, alice.key, [comment]).get_json()["checks"][0]["id"]

    single, batched = stored_check(app, single_id), stored_check(app, batch_id)
    columns = [c.key for c in Check.__table__.columns if c.key not in {"id", "guid", "created_at"}]
    assert {c: getattr(batched, c) for c in columns} == {c: getattr(single, c) for c in columns}
    assert abs(batched.created_at - single.created_at) < timedelta(minutes=1)


def test_batch_without_explanations_keeps_probabilities_and_decisions(
    client: FlaskClient, alice: Persona
) -> None:
    comments = _mixed_comments(12)
    explained = batch(client, alice.key, comments).get_json()["checks"]
    response = batch(client, alice.key, comments, "?explain=false")

    assert response.status_code == 200
    plain = response.get_json()["checks"]
    for with_why, without in zip(explained, plain, strict=True):
        assert without["probability"] == pytest.approx(with_why["probability"], abs=1e-9)
        assert (without["decision"], without["discard"]) == (
            with_why["decision"],
            with_why["discard"],
        )
        assert without["explanation"]["tokens"] == without["explanation"]["signals"] == []
        assert without["explanation"]["rules"] == with_why["explanation"]["rules"]
    assert any(item["explanation"]["tokens"] for item in explained)


def test_a_batch_answered_without_explanations_is_explained_when_read(
    client: FlaskClient, alice: Persona
) -> None:
    explained = batch(client, alice.key, [SPAM, HAM]).get_json()["checks"]
    plain = batch(client, alice.key, [SPAM, HAM], "?explain=false").get_json()["checks"]

    for with_why, without in zip(explained, plain, strict=True):
        assert without["explanation"]["bias"] == with_why["explanation"]["bias"]
        read = client.get(f"{API}/comments/{without['id']}", headers=bearer(alice.key))
        assert read.get_json()["explanation"] == with_why["explanation"]


def test_batch_of_exactly_the_limit_is_accepted(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    with app.app_context():
        limit = app.extensions["spamward.settings"].max_batch
    comments = [{"comment_content": f"comment number {i}"} for i in range(limit)]
    response = batch(client, alice.key, comments, "?explain=false")
    assert response.status_code == 200
    assert len(response.get_json()["checks"]) == limit == stored_checks(app)


# GET /comments/{id} and feedback


def test_a_stored_check_reads_back_with_all_its_fields(client: FlaskClient, alice: Persona) -> None:
    before = datetime.now(UTC)
    result = check(client, alice.key, SPAM)
    response = client.get(f"{API}/comments/{result['id']}", headers=bearer(alice.key))

    assert response.status_code == 200
    view = response.get_json()
    assert {k: view[k] for k in result} == result
    assert view["fields"] == SPAM
    assert (view["via"], view["is_test"], view["status"]) == ("api", False, "decided")
    assert view["label"] is view["label_source"] is view["labelled_at"] is None
    created = datetime.fromisoformat(view["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= created <= datetime.now(UTC) + timedelta(seconds=5)


def test_feedback_labels_the_check_and_a_later_label_replaces_it(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    check_id = check(client, alice.key, HAM)["id"]
    url = f"{API}/comments/{check_id}/feedback"

    response = client.post(url, json={"label": "spam"}, headers=bearer(alice.key))
    assert response.status_code == 200
    view = response.get_json()
    assert (view["id"], view["status"], view["label"], view["label_source"]) == (
        check_id,
        "labelled",
        "spam",
        "site",
    )
    assert datetime.fromisoformat(view["labelled_at"]).utcoffset() == timedelta(0)
    assert client.post(url, json={"label": "ham"}, headers=bearer(alice.key)).status_code == 200
    stored = stored_check(app, check_id)
    assert (stored.label, stored.label_source) == ("ham", "site")
    read = client.get(f"{API}/comments/{check_id}", headers=bearer(alice.key)).get_json()
    assert (read["status"], read["label"]) == ("labelled", "ham")
    assert stored_checks(app) == 1


def test_alice_cannot_read_or_label_bobs_check(
    app: Flask, client: FlaskClient, alice: Persona, bob: Persona
) -> None:
    bobs_id = check(client, bob.key, HAM)["id"]
    unknown_id = bobs_id + 1000

    for check_id in (bobs_id, unknown_id):
        read = client.get(f"{API}/comments/{check_id}", headers=bearer(alice.key))
        label = client.post(
            f"{API}/comments/{check_id}/feedback", json={"label": "spam"}, headers=bearer(alice.key)
        )
        for response in (read, label):
            assert response.status_code == 404
            assert error_of(response) == f"no comment {check_id} for this site"
    assert stored_check(app, bobs_id).label is None
    assert client.get(f"{API}/comments/{bobs_id}", headers=bearer(bob.key)).status_code == 200


@pytest.mark.parametrize("check_id", ["0", "2147483648", "99999999999999999999999"])
def test_ids_out_of_range_are_not_found(client: FlaskClient, alice: Persona, check_id: str) -> None:
    response = client.get(f"{API}/comments/{check_id}", headers=bearer(alice.key))
    assert response.status_code == 404
    assert error_of(response)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"label": "maybe"}, 'label must be "spam" or "ham", got "maybe"'),
        ({"label": "SPAM"}, 'label must be "spam" or "ham", got "SPAM"'),
        ({"label": 1}, 'label must be "spam" or "ham", got 1'),
        ({}, 'label must be "spam" or "ham", got null'),
        (["spam"], "the request body must be a JSON object, got array"),
    ],
)
def test_feedback_with_a_bad_label_is_refused(
    app: Flask, client: FlaskClient, alice: Persona, body: Any, message: str
) -> None:
    check_id = check(client, alice.key, HAM)["id"]
    response = client.post(
        f"{API}/comments/{check_id}/feedback", json=body, headers=bearer(alice.key)
    )
    assert response.status_code == 400
    assert error_of(response) == message
    assert stored_check(app, check_id).label is None


# Authentication


ENDPOINTS = [
    ("post", "/check", {"comment_content": "hello"}),
    ("post", "/check/batch", {"comments": [{"comment_content": "hello"}]}),
    ("get", "/comments/1", None),
    ("post", "/comments/1/feedback", {"label": "spam"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, MISSING_KEY),
        ({"Authorization": "  "}, MISSING_KEY),
        (bearer(MALLORY_KEY), "invalid API key"),
        ({"Authorization": "Bearer"}, "malformed Authorization header"),
        ({"Authorization": f"Basic {MALLORY_KEY}"}, "malformed Authorization header"),
    ],
)
def test_requests_without_a_valid_key_are_unauthorized(
    app: Flask,
    client: FlaskClient,
    alice: Persona,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    message: str,
) -> None:
    check(client, alice.key, HAM)  # so that /comments/1 exists, for alice
    response = client.open(f"{API}{path}", method=method.upper(), json=body, headers=headers)
    assert response.status_code == 401
    assert error_of(response).startswith(message)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored_checks(app) == 1
    assert stored_check(app, 1).label is None


def test_the_bearer_scheme_is_case_insensitive(client: FlaskClient, alice: Persona) -> None:
    response = client.post(
        f"{API}/check", json=HAM, headers={"Authorization": f"bearer  {alice.key} "}
    )
    assert response.status_code == 200


# Bad input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the request body is empty: send a JSON object"),
        (b"{not json", "malformed JSON: Expecting property name enclosed in double quotes"),
        (b'{"comment_content": "a"', "malformed JSON: Expecting ',' delimiter"),
        (b"[1, 2]", "the request body must be a JSON object, got array"),
        (b'"comment_content"', "the request body must be a JSON object, got string"),
        (b"null", "the request body must be a JSON object, got null"),
        (b'{"comment_content": 42}', "comment_content must be a string, got number"),
        (b'{"comment_content": "a", "user_ip": null}', "user_ip must be a string, got null"),
        (b'{"comment_content": "a", "is_test": true}', "is_test must be a string, got boolean"),
        (b'{"comment_content": ["a"]}', "comment_content must be a string, got array"),
        (b'{"comment_author": "a"}', "comment_content is required"),
        (b'{"comment_content": "caf\xe9"}', "the request body is not valid UTF-8"),
        (b'{"comment_content": "\xed\xa0\x80"}', "the request body is not valid UTF-8"),
        (b'{"comment_content": "\\ud800"}', "comment_content is not valid Unicode"),
        (b'{"comment_content": "a\\u0000b"}', "comment_content contains a NUL character"),
        (b'{"comment_content": "a", "\\u0000": "b"}', "field name"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON: RecursionError"),
        (b'{"comment_content": "a", "n": ' + b"9" * 5000 + b"}", "malformed JSON"),
    ],
)
def test_check_refuses_bad_input_and_stores_nothing(
    app: Flask, client: FlaskClient, alice: Persona, data: bytes, message: str
) -> None:
    response = client.post(
        f"{API}/check", data=data, content_type="application/json", headers=bearer(alice.key)
    )
    assert response.status_code == 400
    assert error_of(response).startswith(message)
    assert stored_checks(app) == 0


@pytest.mark.parametrize("field", ["comment_content", "comment_author", "user_agent", "hp"])
def test_a_field_over_the_size_limit_is_refused_with_413(
    app: Flask, client: FlaskClient, alice: Persona, field: str
) -> None:
    comment = {"comment_content": "hello", field: "é" * (32 * 1024 + 1)}  # 2 bytes each
    response = client.post(f"{API}/check", json=comment, headers=bearer(alice.key))
    assert response.status_code == 413
    assert error_of(response) == f"{field} is 65538 bytes; the limit is 65536 bytes"
    assert stored_checks(app) == 0


def test_a_field_of_exactly_the_size_limit_is_accepted(client: FlaskClient, alice: Persona) -> None:
    comment = {"comment_content": "word " * 13107 + "x"}  # 65,536 bytes
    assert client.post(f"{API}/check", json=comment, headers=bearer(alice.key)).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"comments": []}, 400, "comments is empty: send at least one comment"),
        ({"comments": {"comment_content": "a"}}, 400, "comments must be an array"),
        ({"comments": None}, 400, "comments must be an array of comment objects, got null"),
        ({}, 400, "comments must be an array of comment objects, got null"),
        ([{"comment_content": "a"}], 400, "the request body must be a JSON object, got array"),
        (
            {"comments": [{"comment_content": "a"}] * 1001},
            413,
            "the batch has 1001 comments; the limit is 1000 per request",
        ),
        (
            {"comments": [HAM, SPAM, "just text", HAM]},
            400,
            "comments[2] must be a JSON object, got string",
        ),
        (
            {"comments": [HAM, HAM, HAM, {"comment_author": "x"}]},
            400,
            "comments[3].comment_content is required",
        ),
        (
            {"comments": [HAM, {**SPAM, "user_ip": 127}]},
            400,
            "comments[1].user_ip must be a string, got number",
        ),
        (
            {"comments": [HAM, {"comment_content": "x" * 70_000}]},
            413,
            "comments[1].comment_content is 70000 bytes; the limit is 65536 bytes",
        ),
    ],
)
def test_a_bad_batch_is_refused_whole_and_stores_nothing(
    app: Flask, client: FlaskClient, alice: Persona, body: Any, status: int, message: str
) -> None:
    response = client.post(f"{API}/check/batch", json=body, headers=bearer(alice.key))
    assert response.status_code == status
    assert error_of(response).startswith(message)
    assert stored_checks(app) == 0


def test_a_batch_with_a_bad_explain_parameter_is_refused(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    response = batch(client, alice.key, [HAM], "?explain=maybe")
    assert response.status_code == 400
    assert error_of(response) == "explain must be true or false, got 'maybe'"
    assert stored_checks(app) == 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/check", 405),
        ("PUT", "/check/batch", 405),
        ("DELETE", "/comments/1", 405),
        ("GET", "/comments/1/feedback", 405),
        ("POST", "/nothing-here", 404),
        ("GET", "/comments/abc", 404),
        ("GET", "", 404),
    ],
)
def test_routing_errors_answer_in_json(
    client: FlaskClient, alice: Persona, method: str, path: str, status: int
) -> None:
    response = client.open(f"{API}{path}", method=method, headers=bearer(alice.key))
    assert response.status_code == status
    assert error_of(response)


@pytest.fixture
def small_app(settings: Settings) -> Iterator[Flask]:
    """The app with a 100-byte field limit and batches of 3: its body limit is about 1 MiB."""
    app = create_app(
        {
            "TESTING": True,
            "SETTINGS": dataclasses.replace(settings, max_content_bytes=100, max_batch=3),
        }
    )
    yield app
    app.extensions["spamward.engine"].dispose()


def test_limits_follow_the_settings(small_app: Flask) -> None:
    with small_app.app_context():
        key = add_site(get_session(), "https://carol.example").key
    client = small_app.test_client()

    over = client.post(f"{API}/check/batch", json={"comments": [HAM] * 4}, headers=bearer(key))
    assert over.status_code == 413
    assert error_of(over) == "the batch has 4 comments; the limit is 3 per request"
    too_long = client.post(f"{API}/check", json={"comment_content": "x" * 101}, headers=bearer(key))
    assert error_of(too_long) == "comment_content is 101 bytes; the limit is 100 bytes"
    long_name = client.post(
        f"{API}/check", json={"comment_content": "", "k" * 101: ""}, headers=bearer(key)
    )
    assert long_name.status_code == 413
    huge = client.post(
        f"{API}/check", data=b" " * (2 << 20), content_type="application/json", headers=bearer(key)
    )
    assert huge.status_code == 413
    assert error_of(huge)
    assert stored_checks(small_app) == 0


def test_fields_that_each_fit_the_limit_pass_though_together_they_exceed_it(
    small_app: Flask,
) -> None:
    with small_app.app_context():
        key = add_site(get_session(), "https://carol.example").key
    comment = {"comment_content": "x" * 100, "comment_author": "y" * 100, "n" * 100: "z" * 100}
    response = small_app.test_client().post(f"{API}/check", json=comment, headers=bearer(key))
    assert response.status_code == 200, response.get_json()
    assert stored_checks(small_app) == 1


# The OpenAPI document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    return loaded


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def assert_documented(
    document: dict[str, Any], path: str, method: str, response: TestResponse
) -> None:
    """Validate a real response against the schema the document gives for its status."""
    responses = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    name = status if status in responses else "default"
    answer = responses[name]
    if "$ref" in answer:
        location = answer["$ref"].removeprefix("#") + _pointer("content", "application/json")
    else:
        location = _pointer("paths", path, method, "responses", name, "content", "application/json")
    assert response.mimetype == "application/json"
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    schema = {"$ref": f"{DOCUMENT_URI}#{location}/schema"}
    Draft202012Validator(schema, registry=registry).validate(response.get_json())


def test_the_document_is_served_without_a_key(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == document
    assert document["servers"] == [{"url": API}]


def test_every_api_route_is_documented_and_every_documented_route_exists(
    app: Flask, document: dict[str, Any]
) -> None:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(f"{API}/"):
            path = re.sub(r"<(?:[^<>:]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(API))
            methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
            routes |= {(path, m.lower()) for m in methods}
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert routes == documented
    assert ("/comments/{id}", "get") in routes


def test_the_documents_schemas_are_valid_json_schemas(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    bearer_scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer_scheme["type"], bearer_scheme["scheme"]) == ("http", "bearer")


def test_real_responses_match_the_document(
    client: FlaskClient, alice: Persona, document: dict[str, Any]
) -> None:
    headers = bearer(alice.key)
    single = client.post(f"{API}/check", json=SPAM, headers=headers)
    assert_documented(document, "/check", "post", single)
    trigger = client.post(
        f"{API}/check", json={**HAM, "user_role": "administrator"}, headers=headers
    )
    assert_documented(document, "/check", "post", trigger)
    unexplained = client.post(f"{API}/check?explain=false", json=SPAM, headers=headers)
    assert_documented(document, "/check", "post", unexplained)
    for query in ("", "?explain=false"):
        many = batch(client, alice.key, _mixed_comments(6), query)
        assert_documented(document, "/check/batch", "post", many)
    check_id = single.get_json()["id"]
    read = client.get(f"{API}/comments/{check_id}", headers=headers)
    assert_documented(document, "/comments/{id}", "get", read)
    labelled = client.post(
        f"{API}/comments/{check_id}/feedback", json={"label": "ham"}, headers=headers
    )
    assert_documented(document, "/comments/{id}/feedback", "post", labelled)
    assert_documented(
        document, "/comments/{id}", "get", client.get(f"{API}/comments/{check_id}", headers=headers)
    )
    errors = [
        ("/check", "post", client.post(f"{API}/check", json=[], headers=headers)),
        ("/check", "post", client.post(f"{API}/check", json={})),
        ("/check/batch", "post", batch(client, alice.key, [{"comment_content": "x" * 70_000}])),
        ("/comments/{id}", "get", client.get(f"{API}/comments/999", headers=headers)),
        ("/check", "post", client.get(f"{API}/check", headers=headers)),
    ]
    assert [response.status_code for *_, response in errors] == [400, 401, 413, 404, 405]
    for path, method, response in errors:
        assert_documented(document, path, method, response)


def test_the_document_catches_an_undocumented_field(
    client: FlaskClient, alice: Persona, document: dict[str, Any]
) -> None:
    response = client.post(f"{API}/check", json=HAM, headers=bearer(alice.key))
    response.set_data(json.dumps({**response.get_json(), "surprise": 1}))
    with pytest.raises(ValidationError):
        assert_documented(document, "/check", "post", response)
