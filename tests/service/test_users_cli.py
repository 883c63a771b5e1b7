"""`spamward users`: adding, listing, limiting and removing the people who moderate."""

from __future__ import annotations

from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from service.cli import main
from service.db import get_session
from service.models import User, UserSite
from service.users import authenticate
from tests.service.conftest import PASSWORD, Persona


def _ok(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    result = runner.invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result


def test_users_add_asks_for_the_password_twice_and_stores_an_argon2id_hash(
    run: CliRunner, app: Flask
) -> None:
    output = _ok(run, "users", "add", "carol", stdin=f"{PASSWORD}\n{PASSWORD}\n").output
    assert "carol (moderator, every site)" in output
    with app.app_context():
        session = get_session()
        user = session.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert authenticate(session, "carol", PASSWORD) is not None


def test_users_add_refuses_passwords_that_differ(run: CliRunner) -> None:
    result = run.invoke(main, ["users", "add", "carol"], input=f"{PASSWORD}\nsomething else\n")
    assert result.exit_code != 0


def test_users_add_reads_the_password_from_stdin(run: CliRunner, app: Flask) -> None:
    _ok(run, "users", "add", "erin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    with app.app_context():
        user = authenticate(get_session(), "erin", PASSWORD)
        assert user is not None and user.role == "admin"


def test_a_short_password_is_refused(run: CliRunner) -> None:
    result = run.invoke(main, ["users", "add", "carol", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "at least 10 characters" in result.output


def test_a_name_is_taken_once(run: CliRunner) -> None:
    _ok(run, "users", "add", "carol", "--password-stdin", stdin=PASSWORD)
    result = run.invoke(main, ["users", "add", "carol", "--password-stdin"], input=PASSWORD)
    assert result.exit_code != 0 and "exists already" in result.output


def test_a_moderator_can_be_limited_to_sites(
    run: CliRunner, app: Flask, alice: Persona, bob: Persona
) -> None:
    _ok(run, "users", "add", "dave", "--site", alice.url, "--password-stdin", stdin=PASSWORD)
    _ok(run, "users", "allow-site", "dave", str(bob.site_id))
    listed = _ok(run, "users", "list").output
    assert "dave\tmoderator\thttps://alice.example, https://bob.example" in listed
    with app.app_context():
        assert len(get_session().scalars(select(UserSite)).all()) == 2


def test_admins_cannot_be_limited_to_sites(run: CliRunner, alice: Persona) -> None:
    result = run.invoke(
        main,
        ["users", "add", "erin", "--role", "admin", "--site", alice.url, "--password-stdin"],
        input=PASSWORD,
    )
    assert result.exit_code != 0 and "admins see every site" in result.output


def test_users_remove_deletes_the_user(run: CliRunner, app: Flask) -> None:
    _ok(run, "users", "add", "carol", "--password-stdin", stdin=PASSWORD)
    _ok(run, "users", "remove", "carol")
    assert "carol" not in _ok(run, "users", "list").output
    result = run.invoke(main, ["users", "remove", "carol"])
    assert result.exit_code != 0 and "no user 'carol'" in result.output
