"""Per-app objects the views use: settings and the loaded model."""

from __future__ import annotations

from flask import current_app

from model import SpamModel
from service.check_ids import CheckIds
from service.registry import ModelHolder
from service.settings import Settings
from service.sites import SiteCache
from service.writer import CheckWriter


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


def get_model() -> SpamModel:
    """The model to answer this request with (the registry's champion, once it has one)."""
    holder: ModelHolder = current_app.extensions["spamward.models"]
    return holder.get()


def get_model_holder() -> ModelHolder:
    """The app's holder of the served model (to switch models)."""
    holder: ModelHolder = current_app.extensions["spamward.models"]
    return holder
