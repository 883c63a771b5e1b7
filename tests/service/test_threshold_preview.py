"""The threshold preview counts a site's recent checks the way the thresholds would decide them."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from model import Thresholds
from service.db import get_session
from service.models import Check, utc_now
from service.threshold_preview import preview_thresholds
from tests.factories import make_comments
from tests.service.conftest import Persona
from tests.service.test_json_api import bearer


def _store(client: FlaskClient, key: str, count: int, seed: int, test: bool = False) -> None:
    comments = [
        {**comment, **({"is_test": "1"} if test else {})}
        for comment, _ in make_comments(count, seed=seed)
    ]
    answer = client.post(
        "/api/v1/check/batch?explain=false", json={"comments": comments}, headers=bearer(key)
    )
    assert answer.status_code == 200


def test_the_preview_counts_recent_checks_by_the_band_their_probability_falls_in(
    app: Flask, client: FlaskClient, alice: Persona, bob: Persona
) -> None:
    _store(client, alice.key, 60, seed=1)
    _store(client, alice.key, 5, seed=2, test=True)  # test checks never count
    _store(client, bob.key, 7, seed=3)  # another site's checks never count
    thresholds = Thresholds(0.2, 0.6, 0.9)
    with app.app_context():
        session = get_session()
        oldest = session.scalars(select(Check.id).order_by(Check.id).limit(4)).all()
        session.execute(
            update(Check)
            .where(Check.id.in_(oldest))
            .values(created_at=utc_now() - timedelta(days=8))
        )
        session.commit()
        recent = session.scalars(
            select(Check.probability).where(
                Check.site_id == alice.site_id,
                Check.is_test.is_(False),
                Check.id.not_in(oldest),
            )
        ).all()
        preview = preview_thresholds(session, alice.site_id, thresholds)
    assert preview["checks"] == len(recent) == 56
    assert preview["discard"] == sum(p >= 0.9 for p in recent)
    assert preview["spam"] == sum(0.6 <= p < 0.9 for p in recent)
    assert preview["unsure"] == sum(0.2 <= p < 0.6 for p in recent)
    assert preview["ham"] == sum(p < 0.2 for p in recent)
    assert preview["spam"] + preview["discard"] > 0 and preview["ham"] > 0


def test_a_site_without_recent_checks_previews_zeros(app: Flask, alice: Persona) -> None:
    with app.app_context():
        preview = preview_thresholds(get_session(), alice.site_id, Thresholds(0.2, 0.6, 0.9))
    assert preview == {"days": 7, "checks": 0, "ham": 0, "unsure": 0, "spam": 0, "discard": 0}
