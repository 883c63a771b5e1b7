"""Acting on the queue: approve, spam, delete, one at a time or in bulk, audited and sent out."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.db import get_session
from service.models import Check, Decision, Site, WebhookEvent
from service.moderation import decide
from service.users import Moderator
from tests.service.conftest import (
    SPAM_TEXT,
    UNSURE_TEXT,
    Persona,
    csrf_token,
    sign_in,
    submit,
)

pytestmark = pytest.mark.usefixtures("flagging")


def act(
    client: FlaskClient, *ids: int, action: str = "approve", back: str = ""
) -> tuple[str, list[str]]:
    """Post the queue form as the page does; return where it led and the flashed messages."""
    token = csrf_token(client, "/moderate/")
    if len(ids) == 1:
        data: dict[str, object] = {"item": f"{action}:{ids[0]}"}
    else:
        data = {"action": action, "check": [str(i) for i in ids]}
    response = client.post("/moderate/decide", data={"csrf_token": token, "back": back, **data})
    assert response.status_code == 302
    page = client.get(response.location).text
    return response.location, re.findall(r'<li class="flash \w+">([^<]*)</li>', page)


def check_of(app: Flask, check_id: int) -> Check:
    with app.app_context():
        return get_session().get_one(Check, check_id)


def queued(client: FlaskClient) -> list[int]:
    return [int(i) for i in re.findall(r'data-id="(\d+)"', client.get("/moderate/").text)]


def test_approving_labels_ham_and_takes_the_item_out_of_the_queue(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    _, messages = act(client, check_id, action="approve")
    assert messages == ["Approved: 1 comment."]
    check = check_of(app, check_id)
    assert (check.label, check.label_source, check.labelled_by) == ("ham", "moderator", "carol")
    assert check.labelled_at is not None
    assert queued(client) == []


def test_confirming_spam_labels_spam(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, UNSURE_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    assert check_of(app, check_id).label == "spam"


def test_deleting_sets_deleted_at_without_a_label(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    _, messages = act(client, check_id, action="delete")
    check = check_of(app, check_id)
    assert check.label is None and check.deleted_at is not None
    assert messages == ["Deleted: 1 comment."]
    assert queued(client) == []


def test_each_action_writes_an_audit_row(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    with app.app_context():
        decision = get_session().scalars(select(Decision)).one()
    assert (decision.check_id, decision.user_name, decision.action) == (check_id, "carol", "spam")
    assert decision.previous_label is None and decision.previous_deleted is False


def test_the_json_api_shows_the_moderators_decision(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    view = client.get(
        f"/api/v1/comments/{check_id}", headers={"Authorization": f"Bearer {alice.key}"}
    ).get_json()
    assert view["status"] == "labelled"
    assert (view["label"], view["label_source"], view["labelled_by"]) == (
        "spam",
        "moderator",
        "carol",
    )
    assert view["labelled_at"] is not None


def test_a_bulk_action_decides_every_selected_item_in_one_request(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    ids = [submit(client, alice, f"{SPAM_TEXT} {n}")["id"] for n in range(4)]
    sign_in(client, carol)
    _, messages = act(client, *ids[:3], action="spam")
    assert messages == ["Marked as spam: 3 comments."]
    assert queued(client) == [ids[3]]


def test_a_bulk_action_of_a_hundred_items_is_one_request(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    rows = [{"comment_content": f"{SPAM_TEXT} {n}"} for n in range(100)]
    answer = client.post(
        "/api/v1/check/batch",
        json={"comments": rows},
        headers={"Authorization": f"Bearer {alice.key}"},
    ).get_json()
    ids = [result["id"] for result in answer["checks"]]
    sign_in(client, carol)
    _, messages = act(client, *ids, action="delete")
    assert messages == ["Deleted: 100 comments."]
    with app.app_context():
        assert len(get_session().scalars(select(Decision)).all()) == 100


def test_the_second_moderator_is_told_who_decided_first(
    app: Flask, client: FlaskClient, alice: Persona, carol: str, erin: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    other = app.test_client()
    sign_in(client, carol)
    sign_in(other, erin)
    act(client, check_id, action="approve")
    _, messages = act(other, check_id, action="spam")
    assert messages == [f"Comment {check_id}: already decided by carol."]
    assert check_of(app, check_id).label == "ham"


def test_a_deleted_item_names_who_deleted_it(
    app: Flask, client: FlaskClient, alice: Persona, carol: str, erin: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    other = app.test_client()
    sign_in(client, carol)
    sign_in(other, erin)
    act(client, check_id, action="delete")
    _, messages = act(other, check_id, action="approve")
    assert messages == [f"Comment {check_id}: already decided by carol."]


def test_a_bulk_action_reports_each_item_it_could_not_decide(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    first, second = (submit(client, alice, f"{SPAM_TEXT} {n}")["id"] for n in range(2))
    sign_in(client, carol)
    act(client, first, action="spam")
    _, messages = act(client, first, second, 999999, action="approve")
    assert messages == [
        "Approved: 1 comment.",
        f"Comment {first}: already decided by carol.",
        "Comment 999999: not found.",
    ]


def test_a_moderator_of_alices_site_does_not_see_bobs_checks(
    client: FlaskClient, alice: Persona, bob: Persona, dave: str
) -> None:
    alices = submit(client, alice, SPAM_TEXT)["id"]
    bobs = submit(client, bob, SPAM_TEXT)["id"]
    sign_in(client, dave)
    assert queued(client) == [alices]
    page = client.get(f"/moderate/?site={bob.site_id}").text
    assert f'data-id="{bobs}"' not in page
    assert "bob.example" not in page


def test_a_moderator_of_alices_site_cannot_act_on_bobs_checks_by_posting_ids(
    app: Flask, client: FlaskClient, alice: Persona, bob: Persona, dave: str
) -> None:
    bobs = submit(client, bob, SPAM_TEXT)["id"]
    sign_in(client, dave)
    _, messages = act(client, bobs, action="approve")
    assert messages == [f"Comment {bobs}: not found."]
    assert check_of(app, bobs).label is None


def test_an_admin_sees_every_site(
    client: FlaskClient, alice: Persona, bob: Persona, erin: str
) -> None:
    ids = [submit(client, persona, SPAM_TEXT)["id"] for persona in (alice, bob)]
    sign_in(client, erin)
    assert sorted(queued(client)) == sorted(ids)


def test_a_decision_queues_a_webhook_in_the_same_transaction(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    with app.app_context():
        session = get_session()
        site = session.get_one(Site, alice.site_id)
        site.webhook_url, site.webhook_secret = "https://alice.example/hook", "s3cret"
        session.commit()
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    act(client, check_id, action="spam")
    with app.app_context():
        event = get_session().scalars(select(WebhookEvent)).one()
    payload = json.loads(event.payload)
    assert (payload["comment_id"], payload["action"], payload["label"]) == (
        check_id,
        "spam",
        "spam",
    )
    assert payload["moderator"] == "carol"


def test_the_queue_form_returns_to_the_same_filters(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    check_id = submit(client, alice, SPAM_TEXT)["id"]
    sign_in(client, carol)
    location, _ = act(client, check_id, back="decision=spam&q=pills&evil=1")
    assert location == "/moderate/?decision=spam&q=pills"


def test_an_action_without_a_selection_says_so(client: FlaskClient, carol: str) -> None:
    sign_in(client, carol)
    token = csrf_token(client, "/moderate/")
    response = client.post(
        "/moderate/decide", data={"csrf_token": token, "action": "spam"}, follow_redirects=True
    )
    assert "Select at least one comment." in response.text


def test_decide_refuses_undo_as_an_action(app: Flask) -> None:
    from service.models import Action

    with app.app_context(), pytest.raises(ValueError, match="undo"):
        decide(get_session(), Moderator(1, "carol", "moderator", None), [1], Action.UNDO)
