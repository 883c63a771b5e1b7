"""Webhooks: each moderator decision becomes an outbox row in the decision's own transaction.

Queuing in the same transaction is what makes delivery durable: the event exists exactly when the
decision does, and survives a restart until it is delivered.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from service.models import Check, Site, WebhookEvent, utc_now

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
    return True
