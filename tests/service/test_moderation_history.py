"""The history page (the audit log) and undoing decisions."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from service.db import get_session
from service.models import Check, Decision, Site, WebhookEvent
from tests.service.conftest import SPAM_TEXT, Persona, csrf_token, sign_in, submit
from tests.service.test_moderation_actions import act, check_of, queued

pytestmark = pytest.mark.usefixtures("flagging")


def decisions(app: Flask) -> list[Decision]:
    with app.app_context():
        return list(get_session().scalars(select(Decision).order_by(Decision.id)))


def undo(client: FlaskClient, decision_id: int) -> list[str]:
    """Press a history row's undo button; return the flashed messages."""
    token = csrf_token(client, "/moderate/history")
    response = client.post(
        f"/moderate/history/{decision_id}/undo", data={"csrf_token": token}, follow_redirects=True
    )
    assert response.status_code == 200
    return [
        html.unescape(m) for m in re.findall(r'<li class="flash \w+">([^<]*)</li>', response.text)
    ]


def test_the_history_lists_who_did_what_newest_first(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    first, second = (submit(client, alice, f"{SPAM_TEXT} {n}")["id"] for n in range(2))
    sign_in(client, carol)
    act(client, first, action="spam")
    act(client, second, action="approve")
    page = client.get("/moderate/history").text
    rows = re.findall(r'<tr class="decision" data-decision="(\d+)">', page)
    assert rows == ["2", "1"]
    assert "carol" in page and f"#{second}" in page


def test_the_history_has_no_route_to_edit_or_delete(app: Flask) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/moderate/history")]
    assert {r.rule for r in rules} == {
        "/moderate/history",
        "/moderate/history/<int(max=2147483647):decision_id>/undo",
    }
    assert all(r.methods is not None and "DELETE" not in r.methods for r in rules)


def test_a_moderator_of_alices_site_sees_only_its_history(
    client: FlaskClient, alice: Persona, bob: Persona, erin: str, dave: str
) -> None:
    submit(client, alice, SPAM_TEXT)
    bobs = submit(client, bob, SPAM_TEXT)["id"]
    sign_in(client, erin)
    act(client, bobs, action="spam")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/moderate/")})
    sign_in(client, dave)
    assert f"#{bobs}" not in client.get("/moderate/history").text


def test_undo_puts_the_item_back_in_the_queue_and_is_audited(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="approve")
    assert undo(client, 1) == ["Decision 1 undone."]
    check = check_of(app, check_id)
    assert (check.label, check.label_source, check.labelled_by, check.labelled_at) == (
        None,
        None,
        None,
        None,
    )
    assert queued(client) == [check_id]
    original, reverted = decisions(app)
    assert (reverted.action, reverted.user_name, reverted.previous_label) == (
        "undo",
        "carol",
        "ham",
    )
    assert original.undone_by == reverted.id


def test_undo_of_a_delete_clears_deleted_at(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="delete")
    undo(client, 1)
    assert check_of(app, check_id).deleted_at is None


def test_undoing_twice_is_refused(client: FlaskClient, alice: Persona, carol: str) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    undo(client, 1)
    assert undo(client, 1) == ["Cannot undo: decision 1 was undone already."]
    assert undo(client, 2) == [
        "Cannot undo: an undo cannot be undone: decide the comment again instead."
    ]


def test_a_superseded_decision_cannot_be_undone(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    # The site relabels it afterwards: carol's decision no longer describes the check.
    client.post(
        f"/api/v1/comments/{check_id}/feedback",
        json={"label": "ham"},
        headers={"Authorization": f"Bearer {alice.key}"},
    )
    assert undo(client, 1) == [
        "Cannot undo: decision 1 was superseded by a later change of the check."
    ]


def test_a_moderator_cannot_undo_someone_elses_decision(
    app: Flask, client: FlaskClient, alice: Persona, carol: str, erin: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    other = app.test_client()
    sign_in(other, erin)
    act(other, check_id, action="spam")
    sign_in(client, carol)
    assert undo(client, 1) == ["Cannot undo: only an admin may undo another moderator's decision."]
    assert '<button type="submit">Undo</button>' not in client.get("/moderate/history").text


def test_an_admin_may_undo_anyones_decision(
    app: Flask, client: FlaskClient, alice: Persona, carol: str, erin: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    other = app.test_client()
    sign_in(other, carol)
    act(other, check_id, action="spam")
    sign_in(client, erin)
    assert undo(client, 1) == ["Decision 1 undone."]


def test_a_moderators_undo_expires_after_an_hour(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    with app.app_context():
        session = get_session()
        created = session.get_one(Decision, 1).created_at
        session.execute(update(Decision).values(created_at=created - timedelta(hours=2)))
        session.commit()
    assert undo(client, 1) == ["Cannot undo: decision 1 is older than 1:00:00: ask an admin."]


def test_a_moderator_of_alices_site_cannot_undo_on_bobs_site(
    app: Flask, client: FlaskClient, bob: Persona, erin: str, dave: str
) -> None:
    check_id = submit(client, bob, SPAM_TEXT)["id"]
    other = app.test_client()
    sign_in(other, erin)
    act(other, check_id, action="spam")
    sign_in(client, dave)
    assert undo(client, 1) == ["Cannot undo: no decision 1."]


def test_an_undo_sends_a_webhook_with_action_undo(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    with app.app_context():
        session = get_session()
        session.get_one(Site, alice.site_id).webhook_url = "https://alice.example/hook"
        session.commit()
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    undo(client, 1)
    with app.app_context():
        payloads = [
            json.loads(e.payload)
            for e in get_session().scalars(select(WebhookEvent).order_by(WebhookEvent.id))
        ]
    assert [(p["action"], p["label"]) for p in payloads] == [("spam", "spam"), ("undo", None)]


def test_after_an_undo_the_check_can_be_decided_again(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    undo(client, 1)
    act(client, check_id, action="approve")
    with app.app_context():
        assert get_session().get_one(Check, check_id).label == "ham"
    assert [d.action for d in decisions(app)] == ["spam", "undo", "approve"]
