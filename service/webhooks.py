"""Webhooks: each moderator decision becomes an outbox row in the decision's own transaction.

Queuing in the same transaction is what makes delivery durable: the event exists exactly when the
decision does, and survives a restart until it is delivered. `webhook_delivery` sends the rows
(a background thread per process, or `spamward webhooks deliver`), signed as `webhook_signature`
describes; this module queues events and manages sites' webhooks and failed events.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from service.models import Check, Site, WebhookEvent, utc_now
from service.webhook_delivery import WebhookDeliverer
from service.webhook_signature import (
    InvalidSignature,
    SignatureHeaderMalformed,
    SignatureMismatch,
    SignatureTimestampOutsideTolerance,
    sign,
    verify,
)

__all__ = [
    "EVENT_TYPE",
    "EventStatus",
    "InvalidSignature",
    "SignatureHeaderMalformed",
    "SignatureMismatch",
    "SignatureTimestampOutsideTolerance",
    "WebhookError",
    "clear_webhook",
    "decision_payload",
    "enqueue_decision",
    "list_events",
    "new_secret",
    "retry_event",
    "set_webhook",
    "sign",
    "verify",
]

EVENT_TYPE = "comment.moderated"


def decision_payload(
    site: Site, check: Check, action: str, moderator: str, decided_at: datetime
) -> str:
    """The JSON body a site receives for one decision (stored as sent, so its signature holds)."""
    return json.dumps(
        {
            "event": EVENT_TYPE,
            "event_id": str(uuid.uuid4()),
            "site": site.url,
            "comment_id": check.id,
            "guid": check.guid,
            "action": action,
            "label": check.label,
            "deleted": check.deleted_at is not None,
            "moderator": moderator,
            "decided_at": decided_at.isoformat(),
        },
        separators=(",", ":"),
    )


def enqueue_decision(session: Session, check: Check, action: str, moderator: str) -> bool:
    """Queue a webhook for a decision already applied to `check`; False when the site has none.

    Call it inside the transaction that records the decision, after the check is updated.
    """
    site = session.get(Site, check.site_id)
    if site is None or not site.webhook_url:
        return False
    now = utc_now()
    payload = decision_payload(site, check, action, moderator, now)
    session.add(WebhookEvent(site_id=site.id, check_id=check.id, payload=payload, created_at=now))
    _notify_after_commit(session)
    return True


def _notify_after_commit(session: Session) -> None:
    """Wake this process's deliverer once the transaction holding the event commits."""
    if not has_app_context():
        return
    deliverer: WebhookDeliverer | None = current_app.extensions.get("spamward.webhooks")
    if deliverer is None:
        return
    session.info["spamward.deliverer"] = deliverer
    if not event.contains(session, "after_commit", _wake):
        event.listen(session, "after_commit", _wake)


def _wake(session: Session) -> None:
    deliverer = session.info.pop("spamward.deliverer", None)
    if deliverer is not None:
        deliverer.notify()


class WebhookError(Exception):
    """A webhook cannot be set or an event retried as asked."""


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"webhook URL must be http:// or https:// with a host, got {url!r}")
    if len(url) > 2048:
        raise WebhookError(f"webhook URL is {len(url)} characters long; at most 2048 fit")
    return url


def new_secret() -> str:
    """A random signing secret (256 bits, URL-safe text)."""
    return "whsec_" + secrets.token_urlsafe(32)


def set_webhook(session: Session, site: Site, url: str, secret: str | None = None) -> str:
    """Point a site's webhooks at `url`, signed with `secret` (a new one when None); return it.

    Events still queued are sent to the new URL with the new secret.

    :raises WebhookError: when the URL is not http(s) or the secret is empty or too long
    """
    url = _checked_url(url)
    secret = new_secret() if secret is None else secret.strip()
    if not 16 <= len(secret) <= 200:
        raise WebhookError(f"the secret must be 16 to 200 characters long, got {len(secret)}")
    site.webhook_url, site.webhook_secret = url, secret
    session.commit()
    return secret


def clear_webhook(session: Session, site: Site) -> None:
    """Stop a site's webhooks; events still queued fail with the reason at their next attempt."""
    site.webhook_url, site.webhook_secret = None, None
    session.commit()


@dataclass(frozen=True)
class EventStatus:
    """One outbox row as `spamward webhooks list` shows it."""

    id: int
    site_id: int
    check_id: int | None
    created_at: datetime
    attempts: int
    state: str  # queued, delivered or failed
    next_attempt_at: datetime
    last_error: str | None


def _status(row: WebhookEvent) -> EventStatus:
    state = "delivered" if row.delivered_at else "failed" if row.failed_at else "queued"
    return EventStatus(
        row.id,
        row.site_id,
        row.check_id,
        row.created_at,
        row.attempts,
        state,
        row.next_attempt_at,
        row.last_error,
    )


def list_events(
    session: Session, site_id: int | None = None, failed_only: bool = False, limit: int = 100
) -> list[EventStatus]:
    """The newest events, optionally of one site or only the failed ones."""
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if site_id is not None:
        query = query.where(WebhookEvent.site_id == site_id)
    if failed_only:
        query = query.where(WebhookEvent.failed_at.is_not(None))
    return [_status(row) for row in session.scalars(query)]


def retry_event(session: Session, event_id: int) -> None:
    """Queue a failed event again, due now, with a fresh count of attempts.

    :raises WebhookError: when there is no such event or it has not failed
    """
    row = session.get(WebhookEvent, event_id)
    if row is None:
        raise WebhookError(f"no webhook event {event_id}")
    if row.failed_at is None:
        state = "delivered" if row.delivered_at else "still queued"
        raise WebhookError(f"webhook event {event_id} has not failed: it is {state}")
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id)
        .values(failed_at=None, attempts=0, next_attempt_at=utc_now(), locked_until=None)
    )
    session.commit()
