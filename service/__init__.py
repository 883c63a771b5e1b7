"""Spamward's web service: an Akismet-compatible API, a JSON API, moderation pages, health checks.

`create_app` is the only place the pieces are wired together; importing this package does no work.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine

from model import ModelError
from service import db, errors, security
from service.check_ids import CheckIds
from service.json_codec import FastJSONProvider
from service.registry import ModelHolder
from service.settings import ConfigError, Settings, load_settings
from service.sites import SiteCache
from service.webhook_delivery import WebhookDeliverer
from service.writer import CheckWriter

# Room for a full batch of maximum-size comments plus JSON framing.
_FRAMING_BYTES = 1 << 20


def create_app(
    test_config: Mapping[str, Any] | None = None, *, deliver_webhooks: bool = True
) -> Flask:
    """Build the app from SPAMWARD_* settings, or from `test_config` (with a SETTINGS entry).

    The webhook deliverer thread starts here when SPAMWARD_WEBHOOKS is on; the admin commands
    pass `deliver_webhooks=False`, as a short-lived command must not start sending.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.json = FastJSONProvider(app)
    settings: Settings = (test_config or {}).get("SETTINGS") or load_settings(
        Path(app.instance_path)
    )
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key or None,
        MAX_CONTENT_LENGTH=settings.max_batch * settings.max_content_bytes + _FRAMING_BYTES,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["spamward.settings"] = settings
    app.extensions["spamward.sites"] = SiteCache(settings.site_cache_seconds)
    engine = db.make_engine(settings.database_url)
    if settings.database_url.startswith("sqlite") and not db.is_current(engine):
        db.upgrade(engine)  # SQLite needs no operator step; PostgreSQL: `spamward db upgrade`
    db.init_app(app, engine)
    app.extensions["spamward.models"] = _load_model(engine, settings)
    ids = app.extensions["spamward.check_ids"] = CheckIds(engine)
    app.extensions["spamward.writer"] = (
        CheckWriter(engine, ids, gather_seconds=settings.write_window_seconds)
        if settings.write_behind
        else None
    )
    deliverer = WebhookDeliverer(engine) if settings.webhooks and deliver_webhooks else None
    app.extensions["spamward.webhooks"] = deliverer
    if deliverer is not None:
        deliverer.start()
    _register_blueprints(app)
    security.init_app(app, settings)
    errors.init_app(app)
    if settings.fast_lane:
        from service.fast_lane import FastLane

        app.wsgi_app = FastLane(app)  # type: ignore[method-assign]
    return app


def _load_model(engine: Engine, settings: Settings) -> ModelHolder:
    """The registry's champion, else the model folder's (the shipped model by default)."""
    holder = ModelHolder(engine, settings.model_dir, settings.model_poll_seconds)
    try:
        holder.start()
    except ModelError as exc:
        raise ConfigError(f"cannot load the model: {exc}") from exc
    return holder


def _register_blueprints(app: Flask) -> None:
    from service import admin_pages, akismet_api, auth, health, json_api, moderate, stats_pages

    app.register_blueprint(health.bp)
    app.register_blueprint(akismet_api.bp)
    app.register_blueprint(json_api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(moderate.bp)
    app.register_blueprint(stats_pages.bp)
    app.register_blueprint(admin_pages.bp)
