"""`spamward sites set-webhook` and `spamward webhooks`, run as an admin would."""

from __future__ import annotations

import re
import threading

from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.cli import main
from service.db import get_session
from service.models import Site, WebhookEvent
from service.webhook_delivery import DeliveryPolicy, deliver_due
from tests.service.conftest import Persona
from tests.service.webhook_helpers import (
    SECRET,
    T0,
    Receiver,
    checked,
    engine_of,
    moderate,
    point_webhook,
)

HOOK = "https://alice.example/hooks/spamward"


def _ok(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    result = runner.invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result


def _fails(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code != 0, result.output
    return result.output


def _site(app: Flask) -> Site:
    with app.app_context():
        return get_session().scalars(select(Site)).one()


def test_set_webhook_prints_a_new_secret_once(run: CliRunner, app: Flask, alice: Persona) -> None:
    output = _ok(run, "sites", "set-webhook", alice.url, HOOK).output
    match = re.search(r"signing secret: (whsec_\S+)", output)
    assert match, output
    site = _site(app)
    assert site.webhook_url == HOOK and site.webhook_secret == match.group(1)
    assert match.group(1) not in _ok(run, "sites", "list").output


def test_set_webhook_reads_a_given_secret_from_stdin_and_does_not_echo_it(
    run: CliRunner, app: Flask, alice: Persona
) -> None:
    output = _ok(run, "sites", "set-webhook", "1", HOOK, "--secret-stdin", stdin=SECRET + "\n")
    assert SECRET not in output.output
    assert _site(app).webhook_secret == SECRET


def test_set_webhook_refuses_a_url_that_is_not_http(run: CliRunner, alice: Persona) -> None:
    assert "http:// or https://" in _fails(run, "sites", "set-webhook", "1", "file:///etc/passwd")


def test_set_webhook_clear_stops_the_webhooks(run: CliRunner, app: Flask, alice: Persona) -> None:
    _ok(run, "sites", "set-webhook", "1", HOOK)
    _ok(run, "sites", "set-webhook", "1", "--clear")
    site = _site(app)
    assert site.webhook_url is None and site.webhook_secret is None
    assert "or --clear alone" in _fails(run, "sites", "set-webhook", "1", HOOK, "--clear")
    assert "or --clear alone" in _fails(run, "sites", "set-webhook", "1")


def test_list_shows_failed_events_and_retry_queues_one_again(
    run: CliRunner, app: Flask, client: FlaskClient, alice: Persona, bob: Persona
) -> None:
    receiver = Receiver()
    receiver.status = 500
    try:
        point_webhook(app, alice, receiver.url)
        point_webhook(app, bob, receiver.url)
        moderate(app, checked(client, alice))
        moderate(app, checked(client, bob))
        deliver_due(engine_of(app), now=T0, policy=DeliveryPolicy(max_attempts=1))
    finally:
        receiver.stop()
    listed = _ok(run, "webhooks", "list", "--failed", "--site", bob.url).output.splitlines()
    assert len(listed) == 1 and "failed" in listed[0] and "HTTP 500" in listed[0]
    event_id = listed[0].split("\t")[0]
    assert len(_ok(run, "webhooks", "list").output.splitlines()) == 2
    assert "queued again" in _ok(run, "webhooks", "retry", event_id).output
    assert "has not failed" in _fails(run, "webhooks", "retry", event_id)
    assert "no webhook event 999" in _fails(run, "webhooks", "retry", "999")
    assert len(_ok(run, "webhooks", "list", "--failed").output.splitlines()) == 1
    with app.app_context():
        event = get_session().get(WebhookEvent, int(event_id))
        assert event is not None and event.failed_at is None and event.attempts == 0


def test_deliver_sends_the_due_events_once(
    run: CliRunner, app: Flask, client: FlaskClient, alice: Persona
) -> None:
    receiver = Receiver()
    try:
        point_webhook(app, alice, receiver.url)
        moderate(app, checked(client, alice))
        moderate(app, checked(client, alice), "ham")
        assert "2 delivered, 0 not delivered" in _ok(run, "webhooks", "deliver").output
        assert "0 delivered" in _ok(run, "webhooks", "deliver").output
    finally:
        receiver.stop()
    assert len(receiver.requests) == 2
    assert not any(t.name == "webhooks" for t in threading.enumerate())
