"""Per-app objects the views use: settings and the loaded model."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy.orm import Session

from model import SpamModel
from service.check_ids import CheckIds
from service.checking import CheckOutcome, check_and_store
from service.registry import ModelHolder
from service.settings import Settings
from service.sites import CachedSite, SiteCache
from service.writer import CheckWriter

T = TypeVar("T")
# How often a reader looks again for a check another process's writer may still hold.
_POLL_SECONDS = 0.02


def get_settings() -> Settings:
    """The app's settings."""
    settings: Settings = current_app.extensions["spamward.settings"]
    return settings


def get_site_cache() -> SiteCache:
    """The app's cache of sites by key."""
    cache: SiteCache = current_app.extensions["spamward.sites"]
    return cache


def get_check_ids() -> CheckIds:
    """The process's supply of check ids."""
    ids: CheckIds = current_app.extensions["spamward.check_ids"]
    return ids


def get_writer() -> CheckWriter | None:
    """The app's background check writer, if write-behind is on."""
    writer: CheckWriter | None = current_app.extensions.get("spamward.writer")
    return writer


def flush_writes() -> None:
    """Wait until this process's queued checks are stored (before reading them)."""
    writer = get_writer()
    if writer is not None:
        writer.flush()


def find_stored(
    session: Session,
    find: Callable[[], T | None],
    may_be_pending: Callable[[], bool] = lambda: True,
) -> T | None:
    """What `find` finds once this process's queued checks are stored.

    Finding nothing, and if `may_be_pending()` (asked only then), look again every 20 ms for
    up to two write windows: another process may still hold the check in its writer.
    """
    flush_writes()
    found = find()
    writer = get_writer()
    if found is not None or writer is None or not may_be_pending():
        return found
    deadline = time.monotonic() + 2 * writer.gather_seconds
    while found is None and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        session.rollback()  # a fresh snapshot
        found = find()
    return found


def get_model() -> SpamModel:
    """The model to answer this request with (the registry's champion, once it has one)."""
    holder: ModelHolder = current_app.extensions["spamward.models"]
    return holder.get()


def get_model_holder() -> ModelHolder:
    """The app's holder of the served model (to switch models)."""
    holder: ModelHolder = current_app.extensions["spamward.models"]
    return holder


def check_with(
    extensions: Mapping[str, Any],
    sessions: Callable[[], Session],
    site: CachedSite,
    fields: Mapping[str, str],
    via: str,
    *,
    explain: bool,
    answer_id: bool,
) -> CheckOutcome:
    """Check and store one comment with an app's model, thresholds, check ids and writer.

    Takes the app's extensions rather than `current_app`, so the fast lane (no app context)
    and the views check alike.
    """
    models: ModelHolder = extensions["spamward.models"]
    settings: Settings = extensions["spamward.settings"]
    return check_and_store(
        sessions,
        site,
        fields,
        via,
        models.get(),
        settings.thresholds,
        extensions["spamward.check_ids"],
        extensions.get("spamward.writer"),
        explain=explain,
        answer_id=answer_id,
    )
