"""Webhook delivery to a real HTTP receiver on 127.0.0.1: signing, retries, leases, restarts."""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
import types
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.db import get_session, make_engine
from service.gunicorn_conf import worker_exit
from service.models import Check, Site
from service.settings import Settings
from service.webhook_delivery import (
    LEASE_RAN_OUT,
    NO_WEBHOOK,
    USER_AGENT,
    DeliveryPolicy,
    WebhookDeliverer,
    claim_due,
    deliver_due,
    deliver_event,
    new_client,
    retry_delay,
)
from service.webhooks import (
    WebhookError,
    clear_webhook,
    enqueue_decision,
    retry_event,
    set_webhook,
    verify,
)
from tests.service.conftest import Persona
from tests.service.webhook_helpers import (
    SECRET,
    T0,
    Receiver,
    aware,
    checked,
    engine_of,
    events,
    moderate,
    one_event,
    point_webhook,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def queued(app: Flask, client: FlaskClient, alice: Persona, receiver: Receiver) -> int:
    """One decision on alice's site, queued for her receiver; the check's id."""
    point_webhook(app, alice, receiver.url)
    check_id = checked(client, alice)
    assert moderate(app, check_id)
    return check_id


def test_a_site_without_a_webhook_queues_nothing(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    assert not moderate(app, checked(client, alice))
    assert events(app) == []


def test_a_decision_is_delivered_once_with_a_valid_signature(
    app: Flask, receiver: Receiver, queued: int
) -> None:
    [attempt] = deliver_due(engine_of(app), now=T0)
    assert attempt.delivered
    [request] = receiver.requests
    event = one_event(app)
    assert request.body == event.payload.encode()
    assert verify(SECRET, request.headers["X-Spamward-Signature"], request.body, now=T0.timestamp())
    payload = json.loads(request.body)
    assert payload["comment_id"] == queued and payload["label"] == "spam"
    assert payload["moderator"] == "carol" and payload["site"] == "https://alice.example"
    assert request.headers["X-Spamward-Event-Id"] == payload["event_id"]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == USER_AGENT
    assert aware(event.delivered_at) == T0 and event.attempts == 1 and event.last_error is None
    assert deliver_due(engine_of(app), now=T0 + timedelta(hours=1)) == []
    assert len(receiver.requests) == 1


def test_a_failing_receiver_is_retried_with_growing_delays_until_it_answers(
    app: Flask, receiver: Receiver, queued: int
) -> None:
    receiver.status = 500
    engine, now, delays = engine_of(app), T0, []
    for _ in range(3):
        [attempt] = deliver_due(engine, now=now)
        assert not attempt.delivered and attempt.error and "HTTP 500" in attempt.error
        event = one_event(app)
        due = aware(event.next_attempt_at)
        delays.append((due - now).total_seconds())
        assert deliver_due(engine, now=due - timedelta(seconds=1)) == []  # not due yet
        now = due
    assert 8 <= delays[0] <= 12 and 24 <= delays[1] <= 36 and 72 <= delays[2] <= 108
    assert event.attempts == 3 and event.failed_at is None
    assert event.last_error is not None and "HTTP 500" in event.last_error
    receiver.status = 200
    [attempt] = deliver_due(engine, now=now)
    assert attempt.delivered
    assert len(receiver.requests) == 4
    assert aware(one_event(app).delivered_at) == now


def test_a_receiver_that_is_down_is_retried_later(
    app: Flask, receiver: Receiver, queued: int
) -> None:
    url = receiver.url
    receiver.stop()
    [attempt] = deliver_due(engine_of(app), now=T0)
    assert not attempt.delivered and attempt.error and "Connect" in attempt.error
    event = one_event(app)
    assert event.attempts == 1 and aware(event.next_attempt_at) > T0
    assert event.delivered_at is None and event.failed_at is None
    assert url.startswith("http://127.0.0.1:")


def test_an_event_is_given_up_after_the_last_attempt_and_retry_queues_it_again(
    app: Flask, receiver: Receiver, queued: int
) -> None:
    receiver.status = 503
    policy, engine, now = DeliveryPolicy(max_attempts=3), engine_of(app), T0
    for _ in range(3):
        [attempt] = deliver_due(engine, now=now, policy=policy)
        now = aware(one_event(app).next_attempt_at)
    event = one_event(app)
    assert event.failed_at is not None and event.attempts == 3
    assert deliver_due(engine, now=now + timedelta(days=2), policy=policy) == []
    receiver.status = 200
    with app.app_context():
        retry_event(get_session(), event.id)
        with pytest.raises(WebhookError, match="has not failed"):
            retry_event(get_session(), event.id)
    [attempt] = deliver_due(engine, policy=policy)
    assert attempt.delivered and len(receiver.requests) == 4


def test_the_sites_current_secret_signs_and_a_removed_webhook_fails_the_event(
    app: Flask, client: FlaskClient, alice: Persona, receiver: Receiver, queued: int
) -> None:
    point_webhook(app, alice, receiver.url, "whsec_rotated_secret_0123456789")
    deliver_due(engine_of(app), now=T0)
    header = receiver.requests[0].headers["X-Spamward-Signature"]
    verify("whsec_rotated_secret_0123456789", header, receiver.requests[0].body, now=T0.timestamp())
    assert moderate(app, checked(client, alice), "ham")
    with app.app_context():
        session = get_session()
        site = session.get(Site, alice.site_id)
        assert site is not None
        clear_webhook(session, site)
    [attempt] = deliver_due(engine_of(app), now=T0)
    assert not attempt.delivered and attempt.error == NO_WEBHOOK
    assert events(app)[1].failed_at is not None
    assert len(receiver.requests) == 1


def test_two_deliverers_racing_claim_each_event_once(
    app: Flask, client: FlaskClient, alice: Persona, receiver: Receiver, settings: Settings
) -> None:
    point_webhook(app, alice, receiver.url)
    for _ in range(12):
        moderate(app, checked(client, alice))
    engines = [make_engine(settings.database_url) for _ in range(2)]
    start, wide = threading.Barrier(2), DeliveryPolicy(batch=50)
    claims: list[list[int]] = [[], []]

    def claim(index: int) -> None:
        start.wait()
        claims[index] = claim_due(engines[index], now=T0, policy=wide)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert not set(claims[0]) & set(claims[1])
    assert sorted(claims[0] + claims[1]) == [event.id for event in events(app)]
    later = T0 + timedelta(seconds=59)
    assert claim_due(engine_of(app), now=later, policy=wide) == []  # still leased
    later = T0 + timedelta(seconds=61)
    assert len(claim_due(engine_of(app), now=later, policy=wide)) == 12  # lease ran out


def test_events_queued_before_a_restart_are_delivered_by_the_new_process_in_the_background(
    app: Flask, receiver: Receiver, queued: int, settings: Settings
) -> None:
    engine_of(app).dispose()  # the old process is gone; its rows are not
    restarted = create_app(
        {"TESTING": True, "SETTINGS": dataclasses.replace(settings, webhooks=True)}
    )
    deliverer = restarted.extensions["spamward.webhooks"]
    try:
        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        deliverer.close()
        engine_of(restarted).dispose()
    assert len(receiver.requests) == 1
    assert one_event(app).delivered_at is not None


def test_a_commit_wakes_the_deliverer_before_its_next_poll(
    alice: Persona, receiver: Receiver, settings: Settings
) -> None:
    app = create_app({"TESTING": True, "SETTINGS": dataclasses.replace(settings, webhooks=True)})
    app.extensions["spamward.webhooks"].close()
    slow = WebhookDeliverer(engine_of(app), poll_seconds=600)
    app.extensions["spamward.webhooks"] = slow
    slow.start()
    try:
        point_webhook(app, alice, receiver.url)
        moderate(app, checked(app.test_client(), alice))
        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.requests) == 1
    finally:
        slow.close()
        engine_of(app).dispose()
    assert slow._thread is not None and not slow._thread.is_alive()


def test_the_retry_delay_triples_from_ten_seconds_up_to_an_hour() -> None:
    policy, rng = DeliveryPolicy(jitter=0), random.Random(1)
    delays = [retry_delay(policy, n, rng).total_seconds() for n in range(1, 9)]
    assert delays == [10, 30, 90, 270, 810, 2430, 3600, 3600]
    jittered = DeliveryPolicy()
    assert {8 <= retry_delay(jittered, 1, rng).total_seconds() <= 12 for _ in range(50)} == {True}


@pytest.mark.parametrize("url", ["ftp://alice.example/hook", "alice.example/hook", "https://"])
def test_a_webhook_url_must_be_http_or_https_with_a_host(
    app: Flask, alice: Persona, url: str
) -> None:
    with app.app_context(), pytest.raises(WebhookError, match="http:// or https://"):
        session = get_session()
        site = session.get(Site, alice.site_id)
        assert site is not None
        set_webhook(session, site, url)


def test_the_moderation_queue_sees_the_event_only_after_its_transaction_commits(
    app: Flask, client: FlaskClient, alice: Persona, receiver: Receiver
) -> None:
    point_webhook(app, alice, receiver.url)
    check_id = checked(client, alice)
    with app.app_context():
        session = get_session()
        check = session.get(Check, check_id)
        assert check is not None
        check.label = "spam"
        enqueue_decision(session, check, "spam", "carol")
        session.rollback()
    assert events(app) == []
    assert deliver_due(engine_of(app), now=T0) == []


def test_a_gunicorn_worker_exit_stops_the_deliverer(settings: Settings) -> None:
    app = create_app({"TESTING": True, "SETTINGS": dataclasses.replace(settings, webhooks=True)})
    deliverer = app.extensions["spamward.webhooks"]
    assert deliverer._thread is not None and deliverer._thread.is_alive()
    worker_exit(None, types.SimpleNamespace(wsgi=app))
    assert not deliverer._thread.is_alive()
    deliverer.notify()  # a late nudge does not start it again
    assert not deliverer._thread.is_alive()
    engine_of(app).dispose()


def test_with_webhooks_off_no_deliverer_runs(app: Flask) -> None:
    assert app.extensions["spamward.webhooks"] is None
    assert not any(thread.name == "webhooks" for thread in threading.enumerate())


def test_an_event_whose_lease_would_run_out_during_the_send_is_left_for_the_next_claim(
    app: Flask, receiver: Receiver, queued: int
) -> None:
    [event_id] = claim_due(engine_of(app), now=T0)
    late = T0 + timedelta(seconds=56)  # lease 60 s, timeout 5 s
    with new_client(DeliveryPolicy()) as client:
        attempt = deliver_event(engine_of(app), event_id, client, now=late)
    assert attempt.error == LEASE_RAN_OUT and receiver.requests == []
    assert one_event(app).attempts == 0
    [attempt] = deliver_due(engine_of(app), now=T0 + timedelta(seconds=61))
    assert attempt.delivered and len(receiver.requests) == 1
