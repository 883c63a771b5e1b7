"""Signing in, sessions, CSRF, rate limits, headers and hostile comments on the moderation pages."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from flask_login import LoginManager

from service import create_app
from service.db import get_session
from service.security import CONTENT_SECURITY_POLICY, instance_secret_key
from service.settings import Settings
from service.sites import add_site
from tests.service.conftest import (
    PASSWORD,
    SPAM_TEXT,
    Persona,
    csrf_token,
    sign_in,
    submit,
)

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=1">'


def test_signing_in_with_the_right_password_leads_to_the_queue(
    client: FlaskClient, carol: str
) -> None:
    response = sign_in(client, carol)
    assert (response.status_code, response.location) == (302, "/moderate/")
    assert client.get("/moderate/").status_code == 200


def test_a_wrong_password_is_refused_with_the_same_message_as_an_unknown_name(
    client: FlaskClient, carol: str
) -> None:
    wrong = sign_in(client, carol, "not the password")
    unknown = sign_in(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong name or password." in wrong.text and "Wrong name or password." in unknown.text


def test_signing_in_goes_back_to_the_page_asked_for_but_never_off_site(
    client: FlaskClient, carol: str
) -> None:
    token = csrf_token(client)
    form = {"csrf_token": token, "name": carol, "password": PASSWORD}
    response = client.post("/login", data=form | {"next": "/moderate/history"})
    assert response.location == "/moderate/history"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/moderate/")})
    response = client.post("/login", data=form | {"next": "//evil.example/"})
    assert response.location == "/moderate/"


def test_the_sixth_bad_attempt_in_a_minute_gets_429(client: FlaskClient, carol: str) -> None:
    statuses = [sign_in(client, carol, f"guess {n}").status_code for n in range(6)]
    assert statuses == [401, 401, 401, 401, 401, 429]


def test_the_limit_is_per_name_until_the_address_limit(client: FlaskClient, carol: str) -> None:
    for n in range(5):
        sign_in(client, carol, f"guess {n}")
    assert sign_in(client, "someone-else", "guess").status_code == 401


def test_signing_out_needs_a_post_with_the_token(client: FlaskClient, carol: str) -> None:
    sign_in(client, carol)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/moderate/")})
    assert client.get("/moderate/").status_code == 302


def test_a_moderation_post_without_the_csrf_token_gets_400(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    response = client.post("/moderate/decide", data={"item": f"spam:{check_id}"})
    assert response.status_code == 400
    assert client.post("/moderate/history/1/undo").status_code == 400


def test_signing_in_without_the_csrf_token_gets_400(client: FlaskClient, carol: str) -> None:
    response = client.post("/login", data={"name": carol, "password": PASSWORD})
    assert response.status_code == 400


def test_the_apis_work_without_csrf_tokens(client: FlaskClient, alice: Persona) -> None:
    assert submit(client, alice, SPAM_TEXT)["decision"] in ("spam", "unsure")
    answer = client.post(
        "/1.1/comment-check",
        data={"api_key": alice.key, "blog": alice.url, "user_ip": "203.0.113.5"}
        | {"comment_content": SPAM_TEXT},
    )
    assert (answer.status_code, answer.text) == (200, "true")
    assert client.post("/1.1/verify-key", data={"key": alice.key, "blog": alice.url}).text == (
        "valid"
    )


@pytest.mark.parametrize("path", ["/login", "/moderate/", "/moderate/history"])
def test_every_html_page_sends_a_strict_content_security_policy(
    client: FlaskClient, carol: str, path: str
) -> None:
    if path != "/login":
        sign_in(client, carol)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    submit(client, alice, SPAM_TEXT)
    sign_in(client, carol)
    for path in ("/login", "/moderate/", "/moderate/history"):
        page = client.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
        assert "<style" not in page and " style=" not in page
        assert not re.search(r"\son[a-z]+=", page)


def test_the_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, carol: str) -> None:
    response = sign_in(client, carol)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_session_cookie_is_secure_by_default_outside_tests(settings: Settings) -> None:
    app = create_app({"SETTINGS": settings})
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
    finally:
        app.extensions["spamward.engine"].dispose()


def test_hostile_comments_are_shown_as_text(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    submit(
        client,
        alice,
        f"{XSS_SCRIPT} cheap pills {XSS_IMG}",
        comment_author=XSS_IMG,
        comment_author_url="javascript:window.__xss=1",
        permalink="data:text/html,<script>window.__xss=1</script>",
    )
    sign_in(client, carol)
    page = client.get("/moderate/").text
    assert XSS_SCRIPT not in page and XSS_IMG not in page
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;" in page
    assert 'href="javascript:' not in page.lower() and 'href="data:' not in page.lower()
    assert "javascript:window.__xss=1" in page  # shown, as inert text


def test_a_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = instance_secret_key(tmp_path)
    assert instance_secret_key(tmp_path) == first
    assert len(first) == 64
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_without_a_configured_key_the_app_uses_the_instance_file(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app({"SETTINGS": replace(settings, secret_key="")})
    try:
        assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    finally:
        app.extensions["spamward.engine"].dispose()


def test_a_removed_user_is_signed_out(app: Flask, client: FlaskClient, carol: str) -> None:
    from service.db import get_session
    from service.users import find_user, remove_user

    sign_in(client, carol)
    with app.app_context():
        session = get_session()
        remove_user(session, find_user(session, carol))
    assert client.get("/moderate/").status_code == 302


def test_the_page_extensions_hooks_run_on_pages_and_not_on_api_calls(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, carol: str
) -> None:
    seen: list[str] = []
    original = LoginManager._update_remember_cookie

    def spy(self: LoginManager, response: Response) -> Response:
        seen.append(request.path)
        answered: Response = original(self, response)
        return answered

    monkeypatch.setattr(LoginManager, "_update_remember_cookie", spy)
    app = create_app({"TESTING": True, "SETTINGS": settings})
    with app.app_context():
        key = add_site(get_session(), "https://hooks.example").key
    client = app.test_client()
    assert client.post("/1.1/verify-key", data={"key": key}).text == "valid"
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    app.extensions["spamward.engine"].dispose()
    assert seen == ["/login"]
