"""The Akismet-compatible API through the Flask test client: exact bodies, headers and rows."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from service.db import get_session
from service.models import Check
from tests.service.conftest import MALLORY_KEY, Persona

THANKS = "Thanks for making the web a better place."
FORM = "application/x-www-form-urlencoded"
IP = "203.0.113.5"
# With the shipped model and card thresholds (author "Sam", IP 203.0.113.5): about 0.13 and
# 1.00 (spam over the discard threshold).
HAM_TEXT = "Thanks for the clear write-up, the second example finally made it click for me."
BLATANT_SPAM = "Check out my channel and subscribe!!! http://free-money.example"
LATIN1_TEXT = "Café crème, très bien: ¿qué tal?"
TRIGGERS = [
    {"comment_author": "akismet-guaranteed-spam"},
    {"comment_author_email": "akismet-guaranteed-spam@example.com"},
]


def _form(persona: Persona, content: str = HAM_TEXT, **extra: str) -> dict[str, str]:
    fields = {
        "api_key": persona.key,
        "blog": persona.url,
        "user_ip": IP,
        "user_agent": "Mozilla/5.0",
        "comment_type": "comment",
        "comment_author": "Sam",
        "comment_content": content,
    }
    fields.update(extra)
    return fields


def _post(client: FlaskClient, endpoint: str, form: dict[str, Any], **kw: Any) -> TestResponse:
    return client.post(f"/1.1/{endpoint}", data=form, **kw)


def _check(client: FlaskClient, persona: Persona, content: str = HAM_TEXT, **extra: str) -> str:
    """Check a comment; return its guid."""
    response = _post(client, "comment-check", _form(persona, content, **extra))
    assert response.text in {"true", "false"}
    return response.headers["X-akismet-guid"]


def _checks(app: Flask) -> list[Check]:
    with app.app_context():
        return list(get_session().scalars(select(Check).order_by(Check.id)))


def _by_guid(app: Flask, guid: str) -> Check:
    matches = [c for c in _checks(app) if c.guid == guid]
    assert len(matches) == 1
    return matches[0]


def _assert_plain(response: TestResponse, body: str) -> None:
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.text == body


def _assert_error(response: TestResponse, body: str | None = None) -> None:
    """An Akismet error: HTTP 200, neither verdict, a printable ASCII debug header."""
    assert response.status_code == 200
    assert response.text not in {"true", "false", "valid", THANKS}
    if body is not None:
        assert response.text == body
    help_text = response.headers["X-akismet-debug-help"]
    assert help_text
    assert help_text.isascii() and help_text.isprintable()


def _month(app: Flask) -> str:
    return _checks(app)[0].created_at.strftime("%Y-%m")


# verify-key


@pytest.mark.parametrize("field", ["key", "api_key"])
def test_verify_key_answers_valid_for_a_known_key_in_either_field(
    client: FlaskClient, alice: Persona, field: str
) -> None:
    response = _post(client, "verify-key", {field: alice.key, "blog": alice.url})
    _assert_plain(response, "valid")
    assert "X-akismet-debug-help" not in response.headers


@pytest.mark.parametrize("field", ["key", "api_key"])
def test_verify_key_answers_invalid_with_a_debug_header_for_an_unknown_key(
    client: FlaskClient, alice: Persona, field: str
) -> None:
    response = _post(client, "verify-key", {field: MALLORY_KEY, "blog": alice.url})
    _assert_plain(response, "invalid")
    assert response.headers["X-akismet-debug-help"]


def test_verify_key_answers_invalid_without_any_key(client: FlaskClient, alice: Persona) -> None:
    _assert_plain(_post(client, "verify-key", {"blog": alice.url}), "invalid")


def test_verify_key_reads_the_key_from_the_host_name(client: FlaskClient, alice: Persona) -> None:
    response = _post(
        client, "verify-key", {"blog": alice.url}, headers={"Host": f"{alice.key}.spam.example"}
    )
    _assert_plain(response, "valid")


def test_verify_key_refuses_an_unknown_key_in_the_host_name(
    client: FlaskClient, alice: Persona
) -> None:
    response = _post(
        client, "verify-key", {"blog": alice.url}, headers={"Host": f"{MALLORY_KEY}.spam.example"}
    )
    _assert_plain(response, "invalid")


# comment-check: verdicts and headers


def test_comment_check_answers_false_for_ham_without_a_pro_tip(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    response = _post(client, "comment-check", _form(alice, HAM_TEXT))
    _assert_plain(response, "false")
    assert "X-akismet-pro-tip" not in response.headers
    assert _checks(app)[0].decision == "ham"


def test_comment_check_answers_true_with_discard_for_blatant_spam(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    response = _post(client, "comment-check", _form(alice, BLATANT_SPAM))
    _assert_plain(response, "true")
    assert response.headers["X-akismet-pro-tip"] == "discard"
    stored = _checks(app)[0]
    assert (stored.decision, stored.discard) == ("spam", True)


def test_every_check_gets_a_distinct_uuid_guid_that_is_stored_with_it(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    guids = [
        _check(client, alice, HAM_TEXT),
        _check(client, alice, BLATANT_SPAM),
        _check(client, alice, HAM_TEXT, comment_author="akismet-guaranteed-spam"),
        _check(client, alice, BLATANT_SPAM, user_role="administrator"),
    ]
    assert all(str(uuid.UUID(guid)) == guid for guid in guids)
    assert len(set(guids)) == 4
    assert [c.guid for c in _checks(app)] == guids


def test_comment_check_stores_what_the_site_sent(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    guid = _check(client, alice, HAM_TEXT)
    stored = _by_guid(app, guid)
    assert (stored.site_id, stored.via, stored.content) == (alice.site_id, "akismet", HAM_TEXT)
    assert (stored.author, stored.user_ip, stored.is_test) == ("Sam", IP, False)
    assert stored.fields["user_agent"] == "Mozilla/5.0"
    assert stored.fields["blog"] == alice.url


@pytest.mark.parametrize("endpoint", ["comment-check", "submit-spam"])
def test_the_api_key_is_never_stored_with_a_check(
    app: Flask, client: FlaskClient, alice: Persona, endpoint: str
) -> None:
    _post(client, endpoint, _form(alice, HAM_TEXT, key=alice.key))
    stored = _checks(app)
    assert len(stored) == 1
    assert alice.key not in repr(stored[0].fields)
    assert "api_key" not in stored[0].fields and "key" not in stored[0].fields


# comment-check: test triggers and honeypot


@pytest.mark.parametrize("trigger", TRIGGERS, ids=["author", "email"])
def test_guaranteed_spam_triggers_answer_true_even_for_a_friendly_comment(
    client: FlaskClient, alice: Persona, trigger: dict[str, str]
) -> None:
    response = _post(client, "comment-check", _form(alice, HAM_TEXT, **trigger))
    _assert_plain(response, "true")


def test_an_administrator_is_never_spam_even_with_spammy_text(
    client: FlaskClient, alice: Persona
) -> None:
    response = _post(client, "comment-check", _form(alice, BLATANT_SPAM, user_role="administrator"))
    _assert_plain(response, "false")
    assert "X-akismet-pro-tip" not in response.headers


def test_a_filled_honeypot_makes_a_friendly_comment_spam(
    client: FlaskClient, alice: Persona
) -> None:
    form = _form(alice, HAM_TEXT, honeypot_field_name="hp", hp="I am a bot")
    _assert_plain(_post(client, "comment-check", form), "true")


@pytest.mark.parametrize(("content", "verdict"), [(HAM_TEXT, "false"), (BLATANT_SPAM, "true")])
def test_an_empty_honeypot_leaves_the_verdict_to_the_model(
    app: Flask, client: FlaskClient, alice: Persona, content: str, verdict: str
) -> None:
    form = _form(alice, content, honeypot_field_name="hp", hp="")
    _assert_plain(_post(client, "comment-check", form), verdict)
    assert not any("honeypot" in rule for rule in _checks(app)[0].explanation["rules"])


# comment-check: test mode


@pytest.mark.parametrize("flag", ["true", "1"])
def test_test_checks_are_stored_as_tests_and_left_out_of_the_counts(
    app: Flask, client: FlaskClient, alice: Persona, flag: str
) -> None:
    _check(client, alice, HAM_TEXT, is_test=flag)
    _check(client, alice, BLATANT_SPAM, is_test=flag)
    _check(client, alice, HAM_TEXT)
    assert [c.is_test for c in _checks(app)] == [True, True, False]
    usage = client.get("/1.2/usage-limit", query_string={"api_key": alice.key}).get_json()
    assert usage["usage"] == 1
    sites = client.get("/1.2/key-sites", query_string={"api_key": alice.key}).get_json()
    row = sites[_month(app)][0]
    assert (row["api_calls"], row["spam"], row["ham"]) == (1, 0, 1)


# comment-check: refusals


@pytest.mark.parametrize("endpoint", ["comment-check", "submit-spam", "submit-ham"])
@pytest.mark.parametrize("missing", ["user_ip", "blog"])
def test_a_missing_required_field_is_named_and_nothing_is_stored(
    app: Flask, client: FlaskClient, alice: Persona, endpoint: str, missing: str
) -> None:
    form = _form(alice)
    del form[missing]
    _assert_error(_post(client, endpoint, form), f"Missing required field: {missing}.")
    assert _checks(app) == []


def test_a_blank_required_field_counts_as_missing(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    response = _post(client, "comment-check", _form(alice, user_ip="  "))
    _assert_error(response, "Missing required field: user_ip.")
    assert _checks(app) == []


@pytest.mark.parametrize("endpoint", ["comment-check", "submit-spam", "submit-ham"])
def test_an_unknown_key_answers_invalid_and_stores_nothing(
    app: Flask, client: FlaskClient, alice: Persona, endpoint: str
) -> None:
    form = _form(alice, BLATANT_SPAM, api_key=MALLORY_KEY)
    response = _post(client, endpoint, form)
    _assert_plain(response, "invalid")
    assert response.headers["X-akismet-debug-help"]
    assert _checks(app) == []


@pytest.mark.parametrize("endpoint", ["usage-limit", "key-sites"])
def test_the_read_endpoints_answer_invalid_for_an_unknown_or_absent_key(
    client: FlaskClient, alice: Persona, endpoint: str
) -> None:
    bad = client.get(f"/1.2/{endpoint}", query_string={"api_key": MALLORY_KEY})
    _assert_plain(bad, "invalid")
    _assert_plain(client.get(f"/1.2/{endpoint}"), "invalid")


def test_comment_check_reads_the_key_from_the_host_name(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    form = _form(alice)
    del form["api_key"]
    response = _post(client, "comment-check", form, headers={"Host": f"{alice.key}.spam.example"})
    _assert_plain(response, "false")
    assert [(c.site_id, c.guid) for c in _checks(app)] == [
        (alice.site_id, response.headers["X-akismet-guid"])
    ]


def test_repeated_comment_context_fields_are_all_kept(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    form: dict[str, Any] = {**_form(alice), "comment_context[]": ["cooking", "recipes"]}
    _assert_plain(_post(client, "comment-check", form), "false")
    context = _checks(app)[0].fields["comment_context"]
    assert "cooking" in context and "recipes" in context


def test_unknown_server_variables_do_not_change_the_verdict(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    plain = _post(client, "comment-check", _form(alice))
    extra = {
        "HTTP_ACCEPT_LANGUAGE": "en-GB",
        "HTTP_USER_AGENT": "Mozilla/5.0",
        "POST_akismet_comment_nonce": "abc123",
        "REMOTE_ADDR": IP,
        "REQUEST_URI": "/wp-comments-post.php",
    }
    noisy = _post(client, "comment-check", _form(alice, **extra))
    _assert_plain(noisy, plain.text)
    assert noisy.headers["X-spamward-probability"] == plain.headers["X-spamward-probability"]
    assert len(_checks(app)) == 2


@pytest.mark.parametrize(
    "content", [b"caf\xe9", b"caf%E9", b"%FF%FE"], ids=["raw", "percent", "percent-ff"]
)
def test_a_body_that_is_not_utf8_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, alice: Persona, content: bytes
) -> None:
    body = f"api_key={alice.key}&blog={alice.url}&user_ip={IP}&comment_content=".encode()
    response = client.post("/1.1/comment-check", data=body + content, content_type=FORM)
    _assert_error(response)
    assert _checks(app) == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (f"blog_charset=ISO-8859-1&comment_content={LATIN1_TEXT}", FORM),
        (f"comment_content={LATIN1_TEXT}", f"{FORM}; charset=ISO-8859-1"),
    ],
    ids=["blog_charset", "content-type"],
)
def test_a_latin1_body_is_decoded_in_its_declared_charset(
    app: Flask, client: FlaskClient, alice: Persona, content: str, content_type: str
) -> None:
    head = f"api_key={alice.key}&blog={alice.url}&user_ip={IP}&"
    response = client.post(
        "/1.1/comment-check", data=(head + content).encode("latin-1"), content_type=content_type
    )
    assert response.text in {"true", "false"}
    assert [c.content for c in _checks(app)] == [LATIN1_TEXT]


def test_percent_encoded_latin1_with_blog_charset_is_decoded(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    body = (
        f"api_key={alice.key}&blog={alice.url}&user_ip={IP}"
        "&blog_charset=ISO-8859-1&comment_content=Caf%E9+cr%E8me"
    )
    response = client.post("/1.1/comment-check", data=body, content_type=FORM)
    assert response.text in {"true", "false"}
    assert [c.content for c in _checks(app)] == ["Café crème"]


def test_an_unknown_charset_is_refused_with_a_safe_debug_header(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    # The charset's name is quoted in the debug header: its newline must not break the answer.
    body = f"api_key={alice.key}&blog={alice.url}&user_ip={IP}&blog_charset=no%0Asuch&x=1"
    _assert_error(client.post("/1.1/comment-check", data=body, content_type=FORM))
    assert _checks(app) == []


def test_a_comment_over_64_kib_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    # 32,769 characters but 65,538 bytes: the limit is on bytes.
    response = _post(client, "comment-check", _form(alice, "é" * 32769))
    _assert_error(response)
    assert _checks(app) == []


def test_a_comment_of_exactly_64_kib_is_checked(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    response = _post(client, "comment-check", _form(alice, "a" * 64 * 1024))
    assert response.text in {"true", "false"}
    assert len(_checks(app)) == 1


# submit-spam and submit-ham


@pytest.mark.parametrize(("endpoint", "label"), [("submit-spam", "spam"), ("submit-ham", "ham")])
def test_a_submit_labels_the_check_named_by_its_guid(
    app: Flask, client: FlaskClient, alice: Persona, endpoint: str, label: str
) -> None:
    first = _check(client, alice, HAM_TEXT)
    second = _check(client, alice, HAM_TEXT)  # same content, author and IP
    _assert_plain(_post(client, endpoint, _form(alice, HAM_TEXT, guid=first)), THANKS)
    stored = {c.guid: (c.label, c.label_source) for c in _checks(app)}
    assert stored == {first: (label, "site"), second: (None, None)}
    assert _by_guid(app, first).labelled_at is not None


@pytest.mark.parametrize(("endpoint", "label"), [("submit-spam", "spam"), ("submit-ham", "ham")])
def test_a_submit_without_guid_labels_the_latest_check_with_that_content_author_and_ip(
    app: Flask, client: FlaskClient, alice: Persona, endpoint: str, label: str
) -> None:
    other_ip = _check(client, alice, HAM_TEXT, user_ip="198.51.100.7")
    other_text = _check(client, alice, BLATANT_SPAM)
    wanted = _check(client, alice, HAM_TEXT)
    _assert_plain(_post(client, endpoint, _form(alice, HAM_TEXT)), THANKS)
    stored = {c.guid: (c.label, c.label_source) for c in _checks(app)}
    assert stored == {other_ip: (None, None), other_text: (None, None), wanted: (label, "site")}


@pytest.mark.parametrize(("endpoint", "label"), [("submit-spam", "spam"), ("submit-ham", "ham")])
def test_a_submit_for_a_never_checked_comment_stores_a_labelled_check(
    app: Flask, client: FlaskClient, alice: Persona, endpoint: str, label: str
) -> None:
    _assert_plain(_post(client, endpoint, _form(alice, "A comment never checked here.")), THANKS)
    stored = _checks(app)
    assert [(c.content, c.site_id, c.label, c.label_source) for c in stored] == [
        ("A comment never checked here.", alice.site_id, label, "site")
    ]


def test_a_submit_reads_the_key_from_the_host_name(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    guid = _check(client, alice, HAM_TEXT)
    form = _form(alice, HAM_TEXT, guid=guid)
    del form["api_key"]
    response = _post(client, "submit-spam", form, headers={"Host": f"{alice.key}.spam.example"})
    _assert_plain(response, THANKS)
    assert _by_guid(app, guid).label == "spam"


# key-sites and usage-limit


def _some_traffic(client: FlaskClient, alice: Persona) -> None:
    """Two ham answers (one then reported spam), two spam answers (one then reported ham)."""
    answers = [
        _post(client, "comment-check", _form(alice, text))
        for text in (HAM_TEXT, "Nice song", BLATANT_SPAM, "Check out my new video")
    ]
    assert [a.text for a in answers] == ["false", "false", "true", "true"]
    missed, wrong = answers[0].headers["X-akismet-guid"], answers[2].headers["X-akismet-guid"]
    _assert_plain(_post(client, "submit-spam", _form(alice, HAM_TEXT, guid=missed)), THANKS)
    _assert_plain(_post(client, "submit-ham", _form(alice, BLATANT_SPAM, guid=wrong)), THANKS)


def test_key_sites_counts_calls_verdicts_and_corrections_as_json(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    _some_traffic(client, alice)
    response = client.get("/1.2/key-sites", query_string={"api_key": alice.key})
    assert response.status_code == 200
    month = _month(app)
    row = {
        "site": alice.url,
        "api_calls": 4,
        "spam": 2,
        "ham": 2,
        "missed_spam": 1,
        "false_positives": 1,
        "is_revoked": False,
    }
    assert response.get_json() == {month: [row], "limit": 500, "offset": 0, "total": 1}


def test_key_sites_counts_nothing_for_another_month(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    _check(client, alice, HAM_TEXT)
    response = client.get("/1.2/key-sites", query_string={"api_key": alice.key, "month": "2001-02"})
    row = response.get_json()["2001-02"][0]
    assert (row["api_calls"], row["spam"], row["ham"]) == (0, 0, 0)


def test_key_sites_refuses_a_malformed_month_with_a_safe_debug_header(
    client: FlaskClient, alice: Persona
) -> None:
    response = client.get("/1.2/key-sites", query_string={"api_key": alice.key, "month": "2026-1€"})
    _assert_error(response)


def test_key_sites_as_csv_has_akismets_title_and_header_lines(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    _some_traffic(client, alice)
    query = {"api_key": alice.key, "format": "csv"}
    response = client.get("/1.2/key-sites", query_string=query)
    assert response.status_code == 200
    month = _month(app)
    title, *rest = response.text.splitlines()
    assert title == f"Active sites for {alice.key} during {month} (limit:500, offset: 0, total: 1)"
    assert list(csv.reader(io.StringIO("\n".join(rest)))) == [
        ["Site", "Total API Calls", "Spam", "Ham", "Missed Spam", "False Positives", "Is Revoked"],
        [alice.url, "4", "2", "2", "1", "1", "false"],
    ]


def test_usage_limit_reports_this_months_calls_without_a_limit(
    client: FlaskClient, alice: Persona
) -> None:
    _some_traffic(client, alice)
    response = client.get("/1.2/usage-limit", query_string={"api_key": alice.key})
    assert response.status_code == 200
    assert response.get_json() == {
        "limit": "none",
        "usage": 4,
        "percentage": "0.00",
        "throttled": False,
    }


# tenants


def test_alice_can_neither_see_nor_label_bobs_checks(
    app: Flask, client: FlaskClient, alice: Persona, bob: Persona
) -> None:
    bobs = _check(client, bob, BLATANT_SPAM)
    _check(client, bob, HAM_TEXT)
    # By bob's guid, and by the same content, author and IP: neither reaches bob's check.
    _assert_plain(_post(client, "submit-ham", _form(alice, BLATANT_SPAM, guid=bobs)), THANKS)
    _assert_plain(_post(client, "submit-spam", _form(alice, HAM_TEXT)), THANKS)
    bob_rows = [c for c in _checks(app) if c.site_id == bob.site_id]
    assert [(c.label, c.label_source) for c in bob_rows] == [(None, None), (None, None)]
    alice_sites = client.get("/1.2/key-sites", query_string={"api_key": alice.key}).get_json()
    month = _month(app)
    assert [r["site"] for r in alice_sites[month]] == [alice.url]
    assert alice_sites[month][0]["api_calls"] == 2  # only her own two feedback rows
    usage = client.get("/1.2/usage-limit", query_string={"api_key": bob.key}).get_json()
    assert usage["usage"] == 2


def test_a_nul_character_is_refused_in_akismet_form_and_nothing_is_stored(
    client: FlaskClient, alice: Persona, app: Flask
) -> None:
    body = f"api_key={alice.key}&blog={alice.url}&user_ip=192.0.2.1&comment_content=a%00b"
    response = client.post(
        "/1.1/comment-check", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.text == "Invalid request."
    assert "NUL" in response.headers["X-akismet-debug-help"]
    with app.app_context():
        assert get_session().scalars(select(Check)).all() == []
