"""Check guids: unique, time-ordered UUIDs (version 7), so the guid index grows at one edge."""

from __future__ import annotations

import time
import uuid

from service.checking import new_guid


def test_a_guid_is_a_version_7_uuid_of_the_rfc_variant() -> None:
    guid = uuid.UUID(new_guid())
    assert guid.version == 7
    assert guid.variant == uuid.RFC_4122


def test_a_guid_starts_with_the_milliseconds_it_was_made_at() -> None:
    before = time.time_ns() // 1_000_000
    guid = uuid.UUID(new_guid())
    after = time.time_ns() // 1_000_000
    assert before <= guid.int >> 80 <= after


def test_a_guid_made_in_a_later_millisecond_sorts_after_an_earlier_one() -> None:
    earlier = new_guid()
    time.sleep(0.002)
    later = new_guid()
    assert earlier < later


def test_guids_made_in_the_same_millisecond_still_differ() -> None:
    guids = [new_guid() for _ in range(10_000)]
    assert len(set(guids)) == len(guids)
    assert all(str(uuid.UUID(g)) == g for g in guids)
