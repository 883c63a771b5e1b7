"""Sites and their keys, thresholds and allow/block rules."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from model import Thresholds
from service.keys import hash_key, key_hint, new_key
from service.models import Rule, RuleField, RuleList, Site
from service.rules import RuleSpec, validate_rule_value


class SiteError(Exception):
    """A site operation cannot be done as asked."""


@dataclass(frozen=True)
class NewKey:
    """A site and its key in clear, which is shown once and never stored."""

    site: Site
    key: str


def add_site(session: Session, url: str, name: str = "") -> NewKey:
    """Create a site; return it with its new key."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SiteError(f"site URL must start with http:// or https://, got {url!r}")
    if session.scalar(select(Site).where(Site.url == url)) is not None:
        raise SiteError(f"a site with URL {url} exists already")
    key = new_key()
    site = Site(url=url, name=name or url, key_hash=hash_key(key), key_hint=key_hint(key))
    session.add(site)
    session.commit()
    return NewKey(site, key)


def find_site(session: Session, ref: str) -> Site:
    """Find a site by id or URL."""
    query = select(Site).where(Site.id == int(ref)) if ref.isdigit() else None
    site = session.scalar(query) if query is not None else None
    site = site or session.scalar(select(Site).where(Site.url == ref.strip().rstrip("/")))
    if site is None:
        raise SiteError(f"no site {ref!r} (give its id or URL; `spamward sites list` shows them)")
    return site


@dataclass(frozen=True)
class CachedSite:
    """What checking needs of a site, cached per process for a few seconds."""

    id: int
    url: str
    thresholds: Thresholds | None
    rules: tuple[RuleSpec, ...]


# Keys are 32 characters; a longer one is entered in the cache by its hash, under a prefix
# that no key as sent can have (it would be longer than this).
_LONGEST_ENTERED_KEY = 64
_HASHED = "sha256:"


class SiteCache:
    """Key -> site and rules, refreshed after `ttl` seconds.

    A key rotated or a rule changed (here or on another instance) takes effect within `ttl`.
    Entries are found by the key as sent, so a hit computes no SHA-256: hashing took about
    14 us of a check with the caches cold, as they are between requests under load. A key
    longer than any real one is entered by its hash, so that junk keys cannot fill memory.
    """

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, CachedSite | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, sessions: Callable[[], Session], key: str) -> CachedSite | None:
        """The cached site for a key, loading it when absent or stale.

        `sessions` gives the session to load with; a cache hit opens none.
        """
        if not key:
            return None
        entered_as = key if len(key) <= _LONGEST_ENTERED_KEY else _HASHED + hash_key(key)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(entered_as)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        session = sessions()
        site = session.scalar(select(Site).where(Site.key_hash == hash_key(key)))
        cached = (
            None
            if site is None
            else CachedSite(
                site.id,
                site.url,
                site_thresholds(site),
                tuple(RuleSpec(r.list, r.field, r.value) for r in site_rules(session, site.id)),
            )
        )
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[entered_as] = (now, cached)
        return cached


def rotate_key(session: Session, site: Site) -> str:
    """Give a site a new key; the old one stops working at once."""
    key = new_key()
    site.key_hash, site.key_hint = hash_key(key), key_hint(key)
    session.commit()
    return key


def remove_site(session: Session, site: Site) -> None:
    """Delete a site with its rules and checks."""
    session.execute(delete(Rule).where(Rule.site_id == site.id))
    session.delete(site)
    session.commit()


def set_thresholds(session: Session, site: Site, thresholds: Thresholds | None) -> None:
    """Set a site's own thresholds, or None to use the service's."""
    site.unsure_threshold = thresholds.unsure if thresholds else None
    site.spam_threshold = thresholds.spam if thresholds else None
    site.discard_threshold = thresholds.discard if thresholds else None
    session.commit()


def site_thresholds(site: Site) -> Thresholds | None:
    """A site's own thresholds, if it has them."""
    if site.unsure_threshold is None or site.spam_threshold is None:
        return None
    return Thresholds(site.unsure_threshold, site.spam_threshold, site.discard_threshold or 1.0)


def add_rule(
    session: Session, site: Site, rule_list: RuleList, field: RuleField, value: str
) -> Rule:
    """Add an allow or block rule to a site, checking the value has the field's form."""
    rule = Rule(
        site_id=site.id,
        list=rule_list.value,
        field=field.value,
        value=validate_rule_value(field, value),
    )
    session.add(rule)
    session.commit()
    return rule


def site_rules(session: Session, site_id: int) -> list[Rule]:
    """A site's rules, oldest first."""
    return list(session.scalars(select(Rule).where(Rule.site_id == site_id).order_by(Rule.id)))
