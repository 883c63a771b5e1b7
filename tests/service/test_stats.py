"""Statistics over stored checks (both databases), and the SVG chart they are drawn with."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Any, Literal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text, update

from service.db import get_session
from service.models import Check, LabelSource
from service.stats import (
    ChartDataMismatch,
    Corrections,
    DayCorrections,
    DayCounts,
    chart_svg,
    corrections,
    count_series,
    daily_counts,
    days_between,
)
from tests.service.conftest import Persona

SVG = "{http://www.w3.org/2000/svg}"
NOV_1, NOV_2, NOV_3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def stored(
    app: Flask,
    client: FlaskClient,
    persona: Persona,
    decision: str,
    at: datetime,
    *,
    discard: bool = False,
    is_test: bool = False,
    label: str | None = None,
    source: LabelSource = LabelSource.MODERATOR,
) -> int:
    """A check stored through the JSON API, then given this decision, time and label."""
    comment: dict[str, Any] = {"comment_content": f"A comment about {decision} at {at}"}
    if is_test:
        comment["is_test"] = "true"
    response = client.post(
        "/api/v1/check", json=comment, headers={"Authorization": f"Bearer {persona.key}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    check_id: int = response.get_json()["id"]
    with app.app_context():
        session = get_session()
        session.execute(
            update(Check)
            .where(Check.id == check_id)
            .values(decision=decision, discard=discard, created_at=at)
        )
        session.commit()
    if label is not None and source is LabelSource.SITE:
        feedback = client.post(
            f"/api/v1/comments/{check_id}/feedback",
            json={"label": label},
            headers={"Authorization": f"Bearer {persona.key}"},
        )
        assert feedback.status_code == 200
    elif label is not None:
        with app.app_context():
            session = get_session()
            session.execute(
                update(Check)
                .where(Check.id == check_id)
                .values(label=label, label_source=source.value, labelled_by="carol")
            )
            session.commit()
    return check_id


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def history(app: Flask, client: FlaskClient, alice: Persona, bob: Persona) -> None:
    """Alice: Nov 1 two ham, one unsure, one spam, one discarded, one test; Nov 2 one spam
    (at 00:00:00) and one ham at 23:59:59. Bob: one spam on Nov 1."""
    for decision in ("ham", "ham", "unsure", "spam"):
        stored(app, client, alice, decision, at(NOV_1))
    stored(app, client, alice, "spam", at(NOV_1, 8), discard=True)
    stored(app, client, alice, "ham", at(NOV_1), is_test=True)
    stored(app, client, alice, "spam", at(NOV_2, 0, 0, 0))
    stored(app, client, alice, "ham", at(NOV_2, 23, 59, 59))
    stored(app, client, bob, "spam", at(NOV_1, 23, 59, 59))


@pytest.mark.usefixtures("history")
def test_daily_counts_group_checks_by_site_utc_day_and_decision(
    app: Flask, alice: Persona, bob: Persona
) -> None:
    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name == "postgresql":
            # Days are UTC days whatever the connection's time zone.
            session.execute(text("SET TIME ZONE 'Pacific/Auckland'"))
        counts = daily_counts(session, None, NOV_1, NOV_3)
    assert counts == {
        alice.site_id: [
            DayCounts(NOV_1, ham=2, unsure=1, spam=1, discarded=1),
            DayCounts(NOV_2, ham=1, spam=1),
            DayCounts(NOV_3),
        ],
        bob.site_id: [DayCounts(NOV_1, spam=1), DayCounts(NOV_2), DayCounts(NOV_3)],
    }
    assert counts[alice.site_id][0].total == 5  # the test check is not counted


@pytest.mark.usefixtures("history")
def test_daily_counts_keep_to_the_sites_and_days_asked_for(
    app: Flask, alice: Persona, bob: Persona
) -> None:
    with app.app_context():
        session = get_session()
        only_bob = daily_counts(session, [bob.site_id], NOV_1, NOV_1)
        one_day = daily_counts(session, [alice.site_id], NOV_2, NOV_2)
        nobody = daily_counts(session, [], NOV_1, NOV_3)
        quiet = daily_counts(session, [alice.site_id], date(2026, 12, 1), date(2026, 12, 2))
    assert only_bob == {bob.site_id: [DayCounts(NOV_1, spam=1)]}
    assert one_day == {alice.site_id: [DayCounts(NOV_2, ham=1, spam=1)]}
    assert nobody == {}
    assert quiet == {alice.site_id: [DayCounts(date(2026, 12, 1)), DayCounts(date(2026, 12, 2))]}


def test_corrections_count_moderator_and_site_labels_apart(
    app: Flask, client: FlaskClient, alice: Persona
) -> None:
    noon = at(NOV_1)
    stored(app, client, alice, "spam", noon, label="ham")  # false positive
    stored(app, client, alice, "spam", noon, discard=True, label="ham")  # also one
    stored(app, client, alice, "ham", noon, label="spam")  # false negative
    stored(app, client, alice, "unsure", noon, label="ham")
    stored(app, client, alice, "unsure", noon, label="spam")
    stored(app, client, alice, "spam", noon, label="spam")  # confirmed
    stored(app, client, alice, "spam", noon)  # not labelled: not counted
    stored(app, client, alice, "spam", noon, is_test=True, label="ham")  # a test: not counted
    stored(app, client, alice, "spam", noon, label="ham", source=LabelSource.SITE)
    stored(app, client, alice, "ham", at(NOV_2), label="spam", source=LabelSource.SITE)
    with app.app_context():
        found = corrections(get_session(), [alice.site_id], NOV_1, NOV_2)
    assert found == {
        alice.site_id: [
            DayCorrections(
                NOV_1,
                moderator=Corrections(
                    false_positives=2, false_negatives=1, unsure_ham=1, unsure_spam=1, confirmed=1
                ),
                site=Corrections(false_positives=1),
            ),
            DayCorrections(NOV_2, site=Corrections(false_negatives=1)),
        ]
    }
    assert found[alice.site_id][0].moderator.labelled == 6


def test_days_between_includes_both_ends() -> None:
    assert days_between(NOV_1, NOV_3) == [NOV_1, NOV_2, NOV_3]
    assert days_between(NOV_3, NOV_1) == []


def _parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def _forbidden(root: ET.Element) -> list[str]:
    """Anything a strict CSP page must not contain: scripts, handlers, styles, links."""
    found = []
    for element in root.iter():
        if element.tag in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject", f"{SVG}image"):
            found.append(element.tag)
        for name in element.attrib:
            if name.lower().startswith("on") or name in ("style", "href") or "href" in name:
                found.append(f"{element.tag}@{name}")
    return found


@pytest.mark.parametrize("kind", ["stacked", "line"])
def test_the_chart_escapes_a_hostile_site_name_and_stays_inert(
    kind: Literal["stacked", "line"],
) -> None:
    days = days_between(NOV_1, NOV_3)
    hostile = '<script>alert("mallory")</script> & "Bob\'s" \x00'
    svg = chart_svg(
        days, [("ham", [1, 2, 3]), (hostile, [0, 1, 0])], title=f"{hostile} blog", kind=kind
    )
    root = _parsed(svg)
    assert "<script" not in svg
    assert _forbidden(root) == []
    texts = [element.text or "" for element in root.iter()]
    assert any(text.startswith('<script>alert("mallory")</script> & "Bob\'s"') for text in texts)


def test_a_stacked_chart_draws_one_bar_per_nonzero_value_with_a_legend() -> None:
    days = days_between(NOV_1, NOV_2)
    series = count_series([DayCounts(NOV_1, ham=3, spam=1), DayCounts(NOV_2, unsure=2)])
    root = _parsed(chart_svg(days, series, title="Alice's blog"))
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    assert [bar.findtext(f"{SVG}title") for bar in bars] == [
        "ham, 2026-11-01: 3",
        "spam, 2026-11-01: 1",
        "unsure, 2026-11-02: 2",
    ]
    legend = [text.text for text in root.iter(f"{SVG}text")]
    assert {"ham", "unsure", "spam", "discarded", "1 Nov", "2 Nov"} <= set(legend)


def test_a_chart_of_no_days_says_so() -> None:
    root = _parsed(chart_svg([], [("ham", [])], title="Nothing yet"))
    assert "no data" in [text.text for text in root.iter(f"{SVG}text")]


def test_a_series_of_the_wrong_length_or_a_bad_colour_is_refused() -> None:
    with pytest.raises(ChartDataMismatch, match="has 1 values for 2 days"):
        chart_svg(days_between(NOV_1, NOV_2), [("ham", [1])], title="t")
    with pytest.raises(ChartDataMismatch, match="#rrggbb"):
        chart_svg([NOV_1], [("ham", [1])], title="t", colours=["url(https://x.example/a)"])
