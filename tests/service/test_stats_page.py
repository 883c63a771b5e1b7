"""The stats page: per-site daily counts, moderators' corrections, and inert SVG charts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.db import get_session
from service.models import Site
from tests.service.conftest import HAM_TEXT, SPAM_TEXT, UNSURE_TEXT, Persona, sign_in, submit
from tests.service.test_moderation_actions import act

pytestmark = pytest.mark.usefixtures("flagging")


def _day_row(page: str) -> list[int]:
    """The numbers of the first day row of the first site's table."""
    row = re.search(r'<tr class="day">(.*?)</tr>', page, re.S)
    assert row, page
    return [int(n) for n in re.findall(r"<td>(\d+)</td>", row.group(1))]


def test_the_stats_page_asks_to_sign_in_first(client: FlaskClient) -> None:
    assert client.get("/moderate/stats/").status_code == 302


def test_the_stats_page_counts_todays_checks_and_a_moderators_correction(
    client: FlaskClient, alice: Persona, carol: str
) -> None:
    spam = submit(client, alice, SPAM_TEXT)
    submit(client, alice, UNSURE_TEXT)
    submit(client, alice, HAM_TEXT)
    submit(client, alice, HAM_TEXT + " again", is_test="1")  # test checks never count
    sign_in(client, carol)
    act(client, spam["id"], action="approve")  # the model said spam: a false positive
    page = client.get("/moderate/stats/").text
    # checks, ham, unsure, spam, discarded, FP, FN, unsure->ham, unsure->spam, site FP, site FN
    assert _day_row(page) == [3, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0]


def test_a_moderator_sees_only_the_stats_of_their_sites(
    client: FlaskClient, alice: Persona, bob: Persona, dave: str
) -> None:
    submit(client, bob, SPAM_TEXT)
    sign_in(client, dave)
    page = client.get("/moderate/stats/").text
    assert "Alice&#39;s blog" in page and "Bob&#39;s news" not in page
    assert client.get(f"/moderate/stats/{bob.site_id}/checks.svg").status_code == 404


def test_the_charts_are_svg_images_that_escape_a_hostile_site_name(
    app: Flask, client: FlaskClient, alice: Persona, carol: str
) -> None:
    with app.app_context():
        session = get_session()
        session.get_one(Site, alice.site_id).name = '<script>alert(1)</script>"'
        session.commit()
    submit(client, alice, SPAM_TEXT)
    sign_in(client, carol)
    for chart in ("checks", "corrections"):
        response = client.get(f"/moderate/stats/{alice.site_id}/{chart}.svg?days=7")
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'"
        root = ET.fromstring(response.text)
        assert "<script>" not in response.text and "&lt;script&gt;" in response.text
        assert not any(tag.tag.endswith("script") for tag in root.iter())


def test_a_bad_days_value_falls_back_to_thirty(client: FlaskClient, carol: str) -> None:
    sign_in(client, carol)
    page = client.get("/moderate/stats/?days=abc").text
    assert 'name="days" min="1" max="366" value="30"' in page
