"""`spamward db`, `spamward sites` and `spamward serve`, run as an admin would."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from service.cli import main
from service.db import get_session
from service.keys import hash_key
from service.models import Rule, Site


def _ok(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    result = runner.invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result


def _key(output: str) -> str:
    match = re.search(r"API key: ([0-9a-f]{32})", output)
    assert match, output
    return match.group(1)


def test_sites_add_prints_a_key_once_and_stores_only_its_hash(run: CliRunner, app: Flask) -> None:
    key = _key(_ok(run, "sites", "add", "https://carol.example/", "--name", "Carol").output)
    with app.app_context():
        site = get_session().scalars(select(Site)).one()
    assert site.url == "https://carol.example"
    assert site.key_hash == hash_key(key)
    assert key not in site.key_hash
    assert key[:6] in _ok(run, "sites", "list").output
    assert key not in _ok(run, "sites", "list").output


def test_adding_the_same_site_twice_fails_with_a_message(run: CliRunner) -> None:
    _ok(run, "sites", "add", "https://carol.example")
    result = run.invoke(main, ["sites", "add", "https://carol.example"])
    assert result.exit_code != 0
    assert "exists already" in result.output


def test_a_site_url_must_be_http(run: CliRunner) -> None:
    result = run.invoke(main, ["sites", "add", "carol.example"])
    assert result.exit_code != 0 and "http://" in result.output


def test_rotate_key_replaces_the_key(run: CliRunner, app: Flask) -> None:
    old = _key(_ok(run, "sites", "add", "https://carol.example").output)
    new = _key(_ok(run, "sites", "rotate-key", "https://carol.example").output)
    assert new != old
    with app.app_context():
        assert get_session().scalars(select(Site)).one().key_hash == hash_key(new)


def test_remove_asks_then_deletes_the_site_and_its_rules(run: CliRunner, app: Flask) -> None:
    _ok(run, "sites", "add", "https://carol.example")
    _ok(run, "sites", "rules", "add", "1", "block", "email-domain", "Spam.Example")
    refused = run.invoke(main, ["sites", "remove", "1"], input="n\n")
    assert refused.exit_code != 0
    _ok(run, "sites", "remove", "1", "--yes")
    with app.app_context():
        session = get_session()
        assert session.scalars(select(Site)).all() == []
        assert session.scalars(select(Rule)).all() == []


def test_an_unknown_site_is_named_in_the_error(run: CliRunner) -> None:
    result = run.invoke(main, ["sites", "rotate-key", "https://nobody.example"])
    assert result.exit_code != 0 and "nobody.example" in result.output


def test_rules_are_added_normalised_listed_and_removed(run: CliRunner) -> None:
    _ok(run, "sites", "add", "https://carol.example")
    _ok(run, "sites", "rules", "add", "1", "block", "email-domain", "Spam.Example")
    _ok(run, "sites", "rules", "add", "1", "allow", "ip", "203.0.113.7/24")
    listing = _ok(run, "sites", "rules", "list", "1").output
    assert "block\temail-domain\tspam.example" in listing
    assert "allow\tip\t203.0.113.0/24" in listing
    _ok(run, "sites", "rules", "remove", "1")
    assert "spam.example" not in _ok(run, "sites", "rules", "list", "1").output


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("ip", "not-an-ip", "not an IP"), ("regex", "(unclosed", "regular expression")],
)
def test_a_malformed_rule_is_refused(run: CliRunner, field: str, value: str, message: str) -> None:
    _ok(run, "sites", "add", "https://carol.example")
    result = run.invoke(main, ["sites", "rules", "add", "1", "block", field, value])
    assert result.exit_code != 0 and message in result.output


def test_site_thresholds_are_set_checked_and_cleared(run: CliRunner, app: Flask) -> None:
    _ok(run, "sites", "add", "https://carol.example")
    _ok(
        run, "sites", "set-thresholds", "1", "--unsure", "0.3", "--spam", "0.7", "--discard", "0.99"
    )
    with app.app_context():
        site = get_session().scalars(select(Site)).one()
        assert (site.unsure_threshold, site.spam_threshold) == (0.3, 0.7)
    bad = run.invoke(
        main,
        ["sites", "set-thresholds", "1", "--unsure", "0.8", "--spam", "0.7", "--discard", "0.9"],
    )
    assert bad.exit_code != 0 and "unsure <= spam" in bad.output
    partial = run.invoke(main, ["sites", "set-thresholds", "1", "--spam", "0.7"])
    assert partial.exit_code != 0
    _ok(run, "sites", "set-thresholds", "1", "--clear")
    with app.app_context():
        assert get_session().scalars(select(Site)).one().spam_threshold is None


def test_db_upgrade_is_idempotent(run: CliRunner) -> None:
    assert "newest schema" in _ok(run, "db", "upgrade").output
    assert "newest schema" in _ok(run, "db", "upgrade").output


def test_a_bad_setting_stops_the_command_with_its_name(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAMWARD_MAX_BATCH", "lots")
    result = run.invoke(main, ["sites", "list"])
    assert result.exit_code != 0
    assert "SPAMWARD_MAX_BATCH" in result.output
    assert "Traceback" not in result.output
