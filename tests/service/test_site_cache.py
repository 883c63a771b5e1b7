"""The site cache: a key finds its site, a stale entry is read again, junk keys stay small."""

from __future__ import annotations

from flask import Flask

from service.db import get_session
from service.keys import hash_key
from service.models import Site
from service.sites import SiteCache, rotate_key
from tests.service.conftest import MALLORY_KEY, Persona


def _lookup(app: Flask, cache: SiteCache, key: str) -> int | None:
    with app.app_context():
        site = cache.lookup(get_session, key)
        return None if site is None else site.id


def test_a_key_finds_its_own_site_and_an_unknown_key_none(app: Flask, alice: Persona) -> None:
    cache = SiteCache(ttl=60)
    assert _lookup(app, cache, alice.key) == alice.site_id
    assert _lookup(app, cache, alice.key) == alice.site_id  # from the cache
    assert _lookup(app, cache, MALLORY_KEY) is None


def test_a_key_sent_with_spaces_around_it_finds_its_site(app: Flask, alice: Persona) -> None:
    assert _lookup(app, SiteCache(ttl=60), f" {alice.key}\n") == alice.site_id


def test_a_rotated_key_stops_working_once_its_entry_is_stale(app: Flask, alice: Persona) -> None:
    cache = SiteCache(ttl=0)
    assert _lookup(app, cache, alice.key) == alice.site_id
    with app.app_context():
        session = get_session()
        new_key = rotate_key(session, session.get_one(Site, alice.site_id))
    assert _lookup(app, cache, alice.key) is None
    assert _lookup(app, cache, new_key) == alice.site_id


def test_a_long_junk_key_is_kept_by_its_hash_not_as_sent(app: Flask, alice: Persona) -> None:
    cache = SiteCache(ttl=60)
    junk = "x" * 60_000
    assert _lookup(app, cache, junk) is None
    assert _lookup(app, cache, alice.key) == alice.site_id
    assert set(cache._entries) == {f"sha256:{hash_key(junk)}", alice.key}
