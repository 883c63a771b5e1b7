"""Webhook test helpers: a real HTTP receiver, checks through the JSON API, decisions."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from service.db import get_session
from service.models import Check, Decision, LabelSource, Site, WebhookEvent, utc_now
from service.webhooks import enqueue_decision, set_webhook
from tests.service.conftest import Persona

SECRET = "whsec_alice_0123456789abcdef"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
COMMENT = {
    "comment_content": "Great post! Visit my site for cheap SEO backlinks http://seo.example.xyz",
    "comment_author": "Best SEO Services London",
    "user_ip": "203.0.113.5",
}


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server on a free local port that records each POST and answers `status`."""

    def __init__(self) -> None:
        self.status = 204
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(Received(dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/spamward"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["spamward.engine"]
    return engine


def aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def point_webhook(app: Flask, persona: Persona, url: str, secret: str = SECRET) -> None:
    with app.app_context():
        session = get_session()
        site = session.get(Site, persona.site_id)
        assert site is not None
        set_webhook(session, site, url, secret)


def checked(client: FlaskClient, persona: Persona) -> int:
    """Check a comment through the JSON API; return the stored check's id."""
    response = client.post(
        "/api/v1/check", json=COMMENT, headers={"Authorization": f"Bearer {persona.key}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    check_id: int = response.get_json()["id"]
    return check_id


def moderate(app: Flask, check_id: int, label: str = "spam", moderator: str = "carol") -> bool:
    """Apply a decision the way the moderation pages do: label, audit row, event, one commit."""
    with app.app_context():
        session = get_session()
        check = session.get(Check, check_id)
        assert check is not None
        check.label, check.label_source = label, LabelSource.MODERATOR.value
        check.labelled_by, check.labelled_at = moderator, utc_now()
        action = "approve" if label == "ham" else "spam"
        session.add(Decision(check_id=check.id, user_name=moderator, action=action))
        queued = enqueue_decision(session, check, action, moderator)
        session.commit()
        return queued


def events(app: Flask) -> list[WebhookEvent]:
    with app.app_context():
        return list(get_session().scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def one_event(app: Flask) -> WebhookEvent:
    [event] = events(app)
    return event
