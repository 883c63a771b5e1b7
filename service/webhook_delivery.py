"""Delivering queued webhook events: claim with a lease, POST signed, record, back off.

Any number of processes, on one machine or several sharing a database, may deliver at once.
An event is claimed by a conditional UPDATE that only one of them can win (the row must be due
and unleased; the winner sets `locked_until`), so no two send the same event at the same time.
A process that dies mid-send leaves a lease that runs out, and the event is sent again: delivery
is at least once, and receivers deduplicate on X-Spamward-Event-Id.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, Engine, and_, or_, select, update
from sqlalchemy.orm import Session

from service.models import Site, WebhookEvent, as_utc, utc_now
from service.webhook_signature import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header

log = logging.getLogger(__name__)
USER_AGENT = "Spamward-Webhooks/1"
NO_WEBHOOK = "the site has no webhook URL or secret any more"
LEASE_RAN_OUT = "the lease runs out before a send could end; left for the next claim"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Timeouts and the retry schedule: 10 s, 30 s, 1.5 min, ... up to an hour apart, ±20%.

    An event is given up (failed_at set) after `max_attempts` failed attempts: with the default
    schedule the 30th comes about 24 hours after the first (an hour, then hourly).
    """

    timeout_seconds: float = 5.0
    lease: timedelta = timedelta(seconds=60)
    first_delay: timedelta = timedelta(seconds=10)
    factor: float = 3.0
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.2
    max_attempts: int = 30
    # Claimed at once: the sends of a batch (at most batch x timeout) fit well inside the lease.
    batch: int = 10


def retry_delay(policy: DeliveryPolicy, attempts: int, rng: random.Random) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt (1 = the first) before the next."""
    exponent = min(max(attempts - 1, 0), 30)  # 3**30 seconds is far past any cap
    base = min(policy.first_delay * policy.factor**exponent, policy.max_delay)
    return base * (1 + rng.uniform(-policy.jitter, policy.jitter))


def _due(now: datetime) -> ColumnElement[bool]:
    """Not delivered, not given up, due, and not leased (or its lease ran out)."""
    return and_(
        WebhookEvent.delivered_at.is_(None),
        WebhookEvent.failed_at.is_(None),
        WebhookEvent.next_attempt_at <= now,
        or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
    )


def claim_due(
    engine: Engine, now: datetime | None = None, policy: DeliveryPolicy | None = None
) -> list[int]:
    """Lease up to `policy.batch` due events to this caller; return their ids, oldest due first.

    Each claim is its own conditional UPDATE and commit: a row another deliverer leased in the
    meantime no longer matches, so its UPDATE changes nothing and it is skipped.
    """
    now, policy = now or utc_now(), policy or DeliveryPolicy()
    with Session(engine) as session:
        candidates = list(
            session.scalars(
                select(WebhookEvent.id)
                .where(_due(now))
                .order_by(WebhookEvent.next_attempt_at, WebhookEvent.id)
                .limit(policy.batch)
            )
        )
    claimed = []
    with engine.connect() as connection:
        for event_id in candidates:
            result = connection.execute(
                update(WebhookEvent)
                .where(WebhookEvent.id == event_id, _due(now))
                .values(locked_until=now + policy.lease)
            )
            connection.commit()
            if result.rowcount == 1:
                claimed.append(event_id)
    return claimed


def release(engine: Engine, event_ids: list[int]) -> None:
    """Give back leases on claimed events that will not be sent now (at shutdown)."""
    if event_ids:
        with engine.begin() as connection:
            connection.execute(
                update(WebhookEvent)
                .where(WebhookEvent.id.in_(event_ids), WebhookEvent.delivered_at.is_(None))
                .values(locked_until=None)
            )


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: delivered, or the error to record."""

    event_id: int
    delivered: bool
    error: str | None = None


def _event_id(event: WebhookEvent) -> str:
    try:
        return str(json.loads(event.payload)["event_id"])
    except (ValueError, KeyError, TypeError):
        return str(event.id)


@dataclass(frozen=True)
class _Outgoing:
    """What one send needs, read before the POST so no transaction stays open during it."""

    site_id: int
    url: str | None
    secret: str | None
    body: bytes
    event_id: str
    attempts: int
    locked_until: datetime | None


def _load(engine: Engine, event_id: int) -> _Outgoing | None:
    with Session(engine) as session:
        event = session.get(WebhookEvent, event_id)
        if event is None:
            return None
        site = session.get(Site, event.site_id)
        return _Outgoing(
            event.site_id,
            site.webhook_url if site else None,
            site.webhook_secret if site else None,
            event.payload.encode("utf-8"),
            _event_id(event),
            event.attempts,
            as_utc(event.locked_until) if event.locked_until else None,
        )


def _post(client: httpx.Client, out: _Outgoing, now: datetime) -> str | None:
    """POST the body to the site's current URL, signed with its current secret; the error."""
    assert out.url and out.secret
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(out.secret, int(now.timestamp()), out.body),
        EVENT_ID_HEADER: out.event_id,
    }
    try:
        response = client.post(out.url, content=out.body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if response.is_success:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"[:500]


def deliver_event(
    engine: Engine,
    event_id: int,
    client: httpx.Client,
    now: datetime | None = None,
    policy: DeliveryPolicy | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """Send one claimed event and record the outcome (delivered, rescheduled or failed).

    The site's URL and secret are read at send time, so a changed secret signs the retries.
    A site without a webhook any more fails the event at once, with the reason.
    """
    now, policy, rng = now or utc_now(), policy or DeliveryPolicy(), rng or random.Random()  # noqa: S311 (jitter)
    out = _load(engine, event_id)
    if out is None:  # removed with its site meanwhile
        return Attempt(event_id, False, "the event is gone")
    timeout = timedelta(seconds=policy.timeout_seconds)
    if out.locked_until is not None and out.locked_until < now + timeout:
        # Another deliverer may claim it before this send ends: leave it to the next claim.
        return Attempt(event_id, False, LEASE_RAN_OUT)
    attempts = out.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "locked_until": None}
    if not out.url or not out.secret:
        error: str | None = NO_WEBHOOK
        values["attempts"] = out.attempts  # nothing was sent
        values["failed_at"] = now
    else:
        error = _post(client, out, now)
        if error is None:
            values["delivered_at"] = now
        elif attempts >= policy.max_attempts:
            values["failed_at"] = now
        else:
            values["next_attempt_at"] = now + retry_delay(policy, attempts, rng)
    values["last_error"] = error
    with engine.begin() as connection:
        connection.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(**values))
    if error is not None:
        log.warning("webhook event %d of site %d: %s", event_id, out.site_id, error)
    return Attempt(event_id, error is None, error)


def deliver_due(
    engine: Engine,
    client: httpx.Client | None = None,
    now: datetime | None = None,
    policy: DeliveryPolicy | None = None,
    rng: random.Random | None = None,
) -> list[Attempt]:
    """Claim the due events and send each once; return what happened to them."""
    policy = policy or DeliveryPolicy()
    own_client = client is None
    client = client or new_client(policy)
    try:
        return [
            deliver_event(engine, event_id, client, now, policy, rng)
            for event_id in claim_due(engine, now, policy)
        ]
    finally:
        if own_client:
            client.close()


def new_client(policy: DeliveryPolicy) -> httpx.Client:
    """An HTTP client for webhooks: a short timeout, and redirects are not followed."""
    return httpx.Client(timeout=policy.timeout_seconds, follow_redirects=False)


class WebhookDeliverer:
    """A background thread per process that delivers due events every `poll_seconds`.

    Requests never wait for it: they only insert outbox rows, and `notify()` wakes it early.
    It starts lazily (again after a fork, as threads do not survive one) and `close()` stops it
    between two sends; an event interrupted by a hard kill is sent again once its lease ends.
    """

    def __init__(
        self,
        engine: Engine,
        policy: DeliveryPolicy | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.policy = policy or DeliveryPolicy()
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def start(self) -> None:
        """Start the thread in this process, unless it runs already or was closed."""
        with self._lock:
            if self._stop.is_set() or (self._thread is not None and self._pid == os.getpid()):
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()
        atexit.register(self.close)

    def notify(self) -> None:
        """Deliver now rather than at the next poll (call it after committing an event)."""
        self.start()
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the send in progress, waiting up to `timeout` seconds."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and self._pid == os.getpid() and thread.is_alive():
            thread.join(timeout)

    def _run(self) -> None:
        with new_client(self.policy) as client:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    sent = self._deliver_batch(client)
                except Exception:  # the database is away: try again at the next poll
                    log.exception("webhook delivery failed; retrying in %.0f s", self.poll_seconds)
                    sent = 0
                # A full batch means more may be due: go on at once.
                if sent < self.policy.batch:
                    self._wake.wait(self.poll_seconds)

    def _deliver_batch(self, client: httpx.Client) -> int:
        claimed = claim_due(self.engine, policy=self.policy)
        for index, event_id in enumerate(claimed):
            if self._stop.is_set():
                release(self.engine, claimed[index:])
                return index
            deliver_event(self.engine, event_id, client, policy=self.policy)
        return len(claimed)
