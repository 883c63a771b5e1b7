"""The real `akismet` client (PyPI, ubernostrum/akismet) against the app, in-process.

The library always requests https://rest.akismet.com/1.1/...; the httpx transports below hand
every request to the app whatever its host, so no network is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import akismet
import httpx
import pytest
from asgiref.wsgi import WsgiToAsgi
from flask import Flask
from sqlalchemy import select

from service.db import get_session
from service.models import Check
from tests.service.conftest import MALLORY_KEY, Persona

IP = "203.0.113.5"
AUTHOR = "Sam"
# With the shipped model and the card's thresholds (unsure 0.28, spam 0.87, discard 0.98),
# sent with comment_author "Sam" and user_ip 203.0.113.5, these score about 0.13 (ham), 0.93
# (spam, under the discard threshold) and 1.00 (discard). Without the author the spam text
# scores about 0.82, "unsure", which Akismet's wire format also answers as plain `true`.
HAM_TEXT = "Thanks for the clear write-up, the second example finally made it click for me."
SPAM_TEXT = "Call now to claim"
DISCARD_TEXT = "Check out my channel and subscribe!!! http://free-money.example"
VERDICTS = [
    (HAM_TEXT, akismet.CheckResponse.HAM),
    (SPAM_TEXT, akismet.CheckResponse.SPAM),
    (DISCARD_TEXT, akismet.CheckResponse.DISCARD),
]
VERDICT_IDS = ["ham", "spam", "discard"]


def _http(app: Flask, params: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        headers={"User-Agent": akismet.USER_AGENT},
        params=params,
        timeout=10.0,
    )


def _async_http(app: Flask) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=WsgiToAsgi(app)),  # type: ignore[no-untyped-call]
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=10.0,
    )


def _config(persona: Persona) -> akismet.Config:
    return akismet.Config(key=persona.key, url=persona.url)


def _checks(app: Flask) -> list[Check]:
    with app.app_context():
        return list(get_session().scalars(select(Check).order_by(Check.id)))


@pytest.fixture
def akismet_client(app: Flask, alice: Persona) -> Iterator[akismet.SyncClient]:
    """Alice's validated client: building it calls verify-key."""
    with _http(app) as http:
        yield akismet.SyncClient.validated_client(config=_config(alice), http_client=http)


# Sync client


def test_validated_client_accepts_a_known_key(akismet_client: akismet.SyncClient) -> None:
    assert akismet_client.verify_key() is True


def test_verify_key_is_false_for_an_unknown_key(
    akismet_client: akismet.SyncClient, alice: Persona
) -> None:
    assert akismet_client.verify_key(MALLORY_KEY, alice.url) is False


def test_validated_client_refuses_an_unknown_key(app: Flask, alice: Persona) -> None:
    config = akismet.Config(key=MALLORY_KEY, url=alice.url)
    with _http(app) as http, pytest.raises(akismet.APIKeyError):
        akismet.SyncClient.validated_client(config=config, http_client=http)


def test_a_call_with_an_unknown_key_raises_and_stores_nothing(app: Flask, alice: Persona) -> None:
    config = akismet.Config(key=MALLORY_KEY, url=alice.url)
    with _http(app) as http:
        client = akismet.SyncClient(config=config, http_client=http)
        with pytest.raises(akismet.APIKeyError):
            client.comment_check(IP, comment_content=DISCARD_TEXT)
        with pytest.raises(akismet.APIKeyError):
            client.submit_spam(IP, comment_content=DISCARD_TEXT)
    assert _checks(app) == []


@pytest.mark.parametrize(("content", "expected"), VERDICTS, ids=VERDICT_IDS)
def test_comment_check_answers_each_verdict_the_library_knows(
    app: Flask,
    akismet_client: akismet.SyncClient,
    alice: Persona,
    content: str,
    expected: akismet.CheckResponse,
) -> None:
    answer = akismet_client.comment_check(
        IP,
        comment_content=content,
        comment_author=AUTHOR,
        comment_type="comment",
        user_agent="Mozilla/5.0",
    )
    assert answer is expected
    stored = _checks(app)
    assert [(c.site_id, c.via, c.content, c.author) for c in stored] == [
        (alice.site_id, "akismet", content, AUTHOR)
    ]
    assert stored[0].discard is (expected is akismet.CheckResponse.DISCARD)


def test_the_librarys_test_flag_is_stored(app: Flask, akismet_client: akismet.SyncClient) -> None:
    akismet_client.comment_check(IP, comment_content=HAM_TEXT, is_test=True)
    assert [c.is_test for c in _checks(app)] == [True]


def test_the_librarys_test_triggers_give_their_verdicts(
    akismet_client: akismet.SyncClient,
) -> None:
    spam = akismet_client.comment_check(
        IP, comment_content=HAM_TEXT, comment_author="akismet-guaranteed-spam"
    )
    ham = akismet_client.comment_check(IP, comment_content=DISCARD_TEXT, user_role="administrator")
    assert (spam, ham) == (akismet.CheckResponse.SPAM, akismet.CheckResponse.HAM)


@pytest.mark.parametrize("label", ["spam", "ham"])
def test_submit_spam_and_submit_ham_return_true_and_label_the_check(
    app: Flask, akismet_client: akismet.SyncClient, label: str
) -> None:
    akismet_client.comment_check(IP, comment_content=SPAM_TEXT, comment_author=AUTHOR)
    submit = akismet_client.submit_spam if label == "spam" else akismet_client.submit_ham
    assert submit(IP, comment_content=SPAM_TEXT, comment_author=AUTHOR) is True
    assert [(c.label, c.label_source) for c in _checks(app)] == [(label, "site")]


def test_key_sites_without_a_key_is_refused(akismet_client: akismet.SyncClient) -> None:
    # The library sends no api_key to key-sites; the server must not guess whose sites to show.
    with pytest.raises(akismet.APIKeyError):
        akismet_client.key_sites()


def test_key_sites_parses_as_json_and_csv_when_the_client_adds_the_key(
    app: Flask, alice: Persona
) -> None:
    with _http(app, params={"api_key": alice.key}) as http:
        client = akismet.SyncClient.validated_client(config=_config(alice), http_client=http)
        client.comment_check(IP, comment_content=HAM_TEXT, comment_author=AUTHOR)
        client.comment_check(IP, comment_content=DISCARD_TEXT, comment_author=AUTHOR)
        month = _checks(app)[0].created_at.strftime("%Y-%m")
        as_json = client.key_sites(month=month)
        as_csv = client.key_sites(month=month, result_format="csv")
    assert isinstance(as_json, dict)
    assert as_json["total"] == 1
    assert [(r["site"], r["api_calls"], r["spam"], r["ham"]) for r in as_json[month]] == [
        (alice.url, 2, 1, 1)
    ]
    assert isinstance(as_csv, str)
    assert as_csv.splitlines()[0].startswith(f"Active sites for {alice.key} during {month} ")
    assert as_csv.splitlines()[2] == f"{alice.url},2,1,1,0,0,false"


def test_usage_limit_parses(akismet_client: akismet.SyncClient) -> None:
    akismet_client.comment_check(IP, comment_content=HAM_TEXT, comment_author=AUTHOR)
    assert akismet_client.usage_limit() == {
        "limit": "none",
        "usage": 1,
        "percentage": "0.00",
        "throttled": False,
    }


# Async client


def test_async_client_verifies_checks_and_submits(app: Flask, alice: Persona) -> None:
    async def scenario() -> tuple[object, ...]:
        async with _async_http(app) as http:
            client = await akismet.AsyncClient.validated_client(
                config=_config(alice), http_client=http
            )
            verdicts = [
                await client.comment_check(IP, comment_content=text, comment_author=AUTHOR)
                for text, _ in VERDICTS
            ]
            submitted = await client.submit_ham(
                IP, comment_content=SPAM_TEXT, comment_author=AUTHOR
            )
            other_key = await client.verify_key(MALLORY_KEY, alice.url)
            usage = await client.usage_limit()
            return verdicts, submitted, other_key, usage

    verdicts, submitted, other_key, usage = asyncio.run(scenario())
    assert verdicts == [expected for _, expected in VERDICTS]
    assert (submitted, other_key) == (True, False)
    assert usage == {"limit": "none", "usage": 3, "percentage": "0.00", "throttled": False}
    assert [c.label for c in _checks(app)] == [None, "ham", None]


def test_async_validated_client_refuses_an_unknown_key(app: Flask, alice: Persona) -> None:
    async def build() -> None:
        async with _async_http(app) as http:
            config = akismet.Config(key=MALLORY_KEY, url=alice.url)
            await akismet.AsyncClient.validated_client(config=config, http_client=http)

    with pytest.raises(akismet.APIKeyError):
        asyncio.run(build())
