"""The queue page: what a signed-in moderator sees, filtered, counted, paged and explained."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import moderation
from service.moderate import highlight, safe_link
from tests.service.conftest import (
    HAM_TEXT,
    SPAM_TEXT,
    UNSURE_TEXT,
    Persona,
    sign_in,
    submit,
)

pytestmark = pytest.mark.usefixtures("flagging")


def shown_ids(client: FlaskClient, query: str = "") -> list[int]:
    """Ids of the checks on the queue page, in page order."""
    response = client.get(f"/moderate/?{query}")
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'data-id="(\d+)"', response.text)]


def count_of(page: str, decision: str) -> int:
    match = re.search(rf'data-decision="{decision}">[^<]*<b>(\d+)</b>', page)
    assert match, decision
    return int(match.group(1))


def test_the_queue_asks_to_sign_in_first(client: FlaskClient) -> None:
    response = client.get("/moderate/")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_the_queue_lists_unsure_and_spam_newest_first_but_not_ham(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    spam = submit(client, alice, SPAM_TEXT)
    unsure = submit(client, alice, UNSURE_TEXT)
    ham = submit(client, alice, HAM_TEXT)
    assert (spam["decision"], unsure["decision"], ham["decision"]) == ("spam", "unsure", "ham")
    sign_in(client, carol)
    assert shown_ids(client) == [unsure["id"], spam["id"]]


def test_the_counts_show_each_decision_waiting(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    for text in (SPAM_TEXT, SPAM_TEXT + " today", UNSURE_TEXT, HAM_TEXT):
        submit(client, alice, text)
    sign_in(client, carol)
    page = client.get("/moderate/").text
    assert (count_of(page, "spam"), count_of(page, "unsure")) == (2, 1)
    assert 'data-decision="ham"' not in page  # most of the table: counted only when asked for
    assert count_of(client.get("/moderate/?decision=ham").text, "ham") == 1


def test_discarded_and_labelled_checks_are_not_in_the_queue(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    waiting = submit(client, alice, SPAM_TEXT)
    labelled = submit(client, alice, SPAM_TEXT + " again")
    client.post(
        f"/api/v1/comments/{labelled['id']}/feedback",
        json={"label": "spam"},
        headers={"Authorization": f"Bearer {alice.key}"},
    )
    # The guaranteed-spam trigger answers with probability 1.0, the discard threshold here.
    submit(client, alice, "anything", comment_author="akismet-guaranteed-spam")
    sign_in(client, carol)
    assert waiting["id"] in shown_ids(client)
    assert labelled["id"] not in shown_ids(client)


def test_the_decision_filter_shows_only_spam_or_missed_ham(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    spam = submit(client, alice, SPAM_TEXT)
    unsure = submit(client, alice, UNSURE_TEXT)
    ham = submit(client, alice, HAM_TEXT)
    sign_in(client, carol)
    assert shown_ids(client, "decision=spam") == [spam["id"]]
    assert shown_ids(client, "decision=unsure") == [unsure["id"]]
    assert shown_ids(client, "decision=ham") == [ham["id"]]


def test_the_site_filter_shows_one_site(
    client: FlaskClient, alice: Persona, bob: Persona, carol: str
) -> None:
    alices = submit(client, alice, SPAM_TEXT)
    bobs = submit(client, bob, SPAM_TEXT)
    sign_in(client, carol)
    assert shown_ids(client) == [bobs["id"], alices["id"]]
    assert shown_ids(client, f"site={bob.site_id}") == [bobs["id"]]


def test_the_score_filter_keeps_the_range(client: FlaskClient, alice: Persona, carol: str) -> None:
    spam = submit(client, alice, SPAM_TEXT)
    unsure = submit(client, alice, UNSURE_TEXT)
    sign_in(client, carol)
    assert shown_ids(client, "min=0.9") == [spam["id"]]
    assert shown_ids(client, "max=0.5") == [unsure["id"]]


def test_the_date_filter_includes_the_whole_last_day(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    spam = submit(client, alice, SPAM_TEXT)
    sign_in(client, carol)
    today = client.get(f"/api/v1/comments/{spam['id']}", headers=_bearer(alice)).get_json()
    day = today["created_at"][:10]
    assert shown_ids(client, f"since={day}&until={day}") == [spam["id"]]
    assert shown_ids(client, "until=2000-01-01") == []


def test_search_finds_content_author_email_url_and_ip(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    found = submit(
        client,
        alice,
        SPAM_TEXT,
        comment_author="Pill Seller",
        comment_author_email="seller@pills.example",
        comment_author_url="https://seller-site.example",
        user_ip="203.0.113.77",
    )
    submit(client, alice, UNSURE_TEXT)
    sign_in(client, carol)
    for term in ("VIAGRA", "pill seller", "seller@pills", "seller-site", "203.0.113.77"):
        assert shown_ids(client, f"q={term}") == [found["id"]], term


def test_search_treats_percent_and_underscore_literally(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    submit(client, alice, SPAM_TEXT)
    sign_in(client, carol)
    assert shown_ids(client, "q=%25") == []
    assert shown_ids(client, "q=s_e") == []  # as a wildcard it would match "pills.example"


def test_a_bad_filter_value_is_named_and_ignored(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    spam = submit(client, alice, SPAM_TEXT)
    sign_in(client, carol)
    response = client.get("/moderate/?min=lots&since=yesterday")
    assert "min: expected a number from 0 to 1" in response.text
    assert "since: expected a date" in response.text
    assert f'data-id="{spam["id"]}"' in response.text


def test_the_queue_pages_by_page_size(
    client: FlaskClient, alice: Persona, carol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moderation, "PAGE_SIZE", 2)
    ids = [submit(client, alice, f"{SPAM_TEXT} {n}")["id"] for n in range(5)]
    sign_in(client, carol)
    assert shown_ids(client) == ids[::-1][:2]
    assert shown_ids(client, "page=3") == [ids[0]]
    assert "page 3 of 3" in client.get("/moderate/?page=99").text


def test_an_item_shows_the_comment_its_author_and_why_it_scored(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    submit(
        client,
        alice,
        SPAM_TEXT,
        comment_author="Cheap Pills",
        comment_author_email="pills@spam.example",
        comment_author_url="http://pills.example.shop",
        user_ip="198.51.100.7",
        user_agent="Mozilla/4.0 (compatible; MSIE 6.0)",
        permalink="https://alice.example/posts/1",
    )
    sign_in(client, carol)
    page = client.get("/moderate/").text
    for shown in ("Cheap Pills", "pills@spam.example", "198.51.100.7", "MSIE 6.0"):
        assert shown in page
    assert '<a href="https://alice.example/posts/1" rel="noopener noreferrer nofollow">' in page
    assert re.search(r'<mark class="spammy" title="\+[\d.]+">cheap</mark>', page)
    assert "links=1" in page  # a metadata signal
    assert "default" in page or "model" in page


def test_a_rule_that_decided_is_shown(client: FlaskClient, alice: Persona, carol: str) -> None:
    from service.db import get_session
    from service.models import RuleField, RuleList, Site
    from service.sites import add_rule

    app: Flask = client.application
    with app.app_context():
        session = get_session()
        add_rule(
            session,
            session.get_one(Site, alice.site_id),
            RuleList.BLOCK,
            RuleField.KEYWORD,
            "pools",
        )
    submit(client, alice, HAM_TEXT)
    sign_in(client, carol)
    assert "keyword" in client.get("/moderate/").text


def test_akismet_checks_get_their_deferred_explanation_on_the_page(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    answer = client.post(
        "/1.1/comment-check",
        data={"api_key": alice.key, "blog": alice.url, "user_ip": "203.0.113.5"}
        | {"comment_content": SPAM_TEXT},
    )
    assert answer.text == "true"
    sign_in(client, carol)
    assert re.search(r'<mark class="spammy"[^>]*>viagra</mark>', client.get("/moderate/").text)


def test_highlighting_splits_text_without_making_markup() -> None:
    segments = highlight("<b>cheap</b> pills", {"cheap": 1.0, "pills": -0.5})
    assert [(s.text, s.mark) for s in segments] == [
        ("<b>", ""),
        ("cheap", "spammy"),
        ("</b> ", ""),
        ("pills", "hammy"),
    ]


def test_highlighting_marks_a_whole_url_token() -> None:
    segments = highlight("see http://x.example now", {"http://x.example": 2.0})
    assert [s.mark for s in segments] == ["", "spammy", ""]


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://ok.example/a?b=1", "https://ok.example/a?b=1"),
        ("http://ok.example", "http://ok.example"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example", None),
        ("https://", None),
        ("http://ok.example/\nx", None),
    ],
)
def test_only_http_urls_become_links(url: str, link: str | None) -> None:
    assert safe_link(url) == link


def _bearer(persona: Persona) -> dict[str, str]:
    return {"Authorization": f"Bearer {persona.key}"}


def test_search_finds_a_non_ascii_email_and_url_as_written(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    found = submit(
        client,
        alice,
        SPAM_TEXT,
        comment_author_email="zoë@exämple.test",
        comment_author_url="https://café.example/menu",
    )
    sign_in(client, carol)
    for term in ("zoë@exämple", "café.example"):
        assert shown_ids(client, f"q={term}") == [found["id"]], term


def test_search_does_not_match_the_names_of_stored_fields(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    submit(client, alice, SPAM_TEXT, comment_author_email="a@b.example")
    sign_in(client, carol)
    for term in ("comment_author_email", "user_agent", "comment_content"):
        assert shown_ids(client, f"q={term}") == [], term
