"""`spamward serve`, `db`, `sites` and `users`: running and administering the service."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from model import ThresholdError, Thresholds
from service.models import Role, Rule, RuleField, RuleList, Site, User
from service.rules import RuleValueError
from service.settings import ConfigError


def _app() -> Flask:
    from service import create_app

    try:
        return create_app(deliver_webhooks=False)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _session() -> Iterator[Session]:
    from service.db import get_session

    app = _app()
    try:
        with app.app_context():
            yield get_session()
    finally:
        app.extensions["spamward.engine"].dispose()


def default_workers() -> int:
    """Sync workers: one per core plus one, so a worker waiting on the database idles no core."""
    return (os.cpu_count() or 1) + 1


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="gunicorn sync workers [default: cores + 1]",
)
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
def serve_command(host: str, port: int, workers: int | None, dev: bool) -> None:
    """Run the service (gunicorn; SQLite and the shipped model by default)."""
    app = _app()  # checks the settings and migrates SQLite before any worker starts
    app.extensions["spamward.engine"].dispose()
    if dev:
        app.config["SESSION_COOKIE_SECURE"] = False  # the dev server speaks plain HTTP
        app.run(host=host, port=port, debug=True, use_reloader=True)
        return
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    arguments = [
        gunicorn,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers or default_workers()),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        "--config",
        "python:service.gunicorn_conf",  # worker_exit stores queued checks, stops webhooks
        "service:create_app()",
    ]
    click.echo(f"Spamward on http://{host}:{port}/ ({arguments[4]} workers)", err=True)
    os.execv(gunicorn, arguments)


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (run this first on PostgreSQL)."""
    from service.db import upgrade

    app = _app()
    engine = app.extensions["spamward.engine"]
    upgrade(engine)
    engine.dispose()
    click.echo("database is at the newest schema")


@click.group("sites")
def sites_group() -> None:
    """Sites and their API keys, thresholds and rules."""


@sites_group.command("add")
@click.argument("url")
@click.option("--name", default="", help="A name to show instead of the URL.")
def sites_add(url: str, name: str) -> None:
    """Create a site and print its API key (shown this once only)."""
    from service.sites import SiteError, add_site

    with _session() as session:
        try:
            new = add_site(session, url, name)
        except SiteError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"site {new.site.id}: {new.site.url}")
        click.echo(f"API key: {new.key}")
        click.echo("Keep the key now: it is stored hashed and cannot be shown again.", err=True)


@sites_group.command("list")
def sites_list() -> None:
    """List sites (keys appear as their first characters)."""
    with _session() as session:
        for site in session.scalars(select(Site).order_by(Site.id)):
            own = (site.unsure_threshold, site.spam_threshold, site.discard_threshold)
            thresholds = f" thresholds {own}" if site.spam_threshold is not None else ""
            click.echo(f"{site.id}\t{site.url}\t{site.name}\tkey {site.key_hint}...{thresholds}")


def _find(session: Session, ref: str) -> Site:
    from service.sites import SiteError, find_site

    try:
        return find_site(session, ref)
    except SiteError as exc:
        raise click.ClickException(str(exc)) from exc


@sites_group.command("rotate-key")
@click.argument("site")
def sites_rotate_key(site: str) -> None:
    """Give SITE (id or URL) a new key; the old key stops working at once."""
    from service.sites import rotate_key

    with _session() as session:
        found = _find(session, site)
        click.echo(f"API key: {rotate_key(session, found)}")


@sites_group.command("remove")
@click.argument("site")
@click.confirmation_option(prompt="Remove the site with all its checks?")
def sites_remove(site: str) -> None:
    """Remove SITE (id or URL) with its rules and stored checks."""
    from service.sites import remove_site

    with _session() as session:
        found = _find(session, site)
        remove_site(session, found)
        click.echo(f"removed {found.url}")


@sites_group.command("set-thresholds")
@click.argument("site")
@click.option("--unsure", type=float)
@click.option("--spam", type=float)
@click.option("--discard", type=float)
@click.option("--clear", is_flag=True, help="Use the service's thresholds again.")
def sites_set_thresholds(
    site: str, unsure: float | None, spam: float | None, discard: float | None, clear: bool
) -> None:
    """Set SITE's own unsure, spam and discard thresholds (all three), or --clear them."""
    from service.sites import set_thresholds

    values = (unsure, spam, discard)
    if clear == any(v is not None for v in values) or (not clear and None in values):
        raise click.UsageError("give --unsure, --spam and --discard together, or --clear alone")
    try:
        thresholds = None if clear else Thresholds(*values)  # type: ignore[arg-type]
    except ThresholdError as exc:
        raise click.ClickException(str(exc)) from exc
    with _session() as session:
        set_thresholds(session, _find(session, site), thresholds)
        click.echo("thresholds cleared" if clear else f"thresholds set: {thresholds}")


@sites_group.group("rules")
def rules_group() -> None:
    """Allow and block lists that decide before the model."""


@rules_group.command("add")
@click.argument("site")
@click.argument("rule_list", metavar="allow|block", type=click.Choice([r.value for r in RuleList]))
@click.argument("field", type=click.Choice([f.value for f in RuleField]))
@click.argument("value")
def rules_add(site: str, rule_list: str, field: str, value: str) -> None:
    """Add a rule: e.g. `sites rules add 1 block email-domain spam.example`."""
    from service.sites import add_rule

    with _session() as session:
        try:
            rule = add_rule(
                session, _find(session, site), RuleList(rule_list), RuleField(field), value
            )
        except RuleValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"rule {rule.id}: {rule.list} {rule.field}={rule.value}")


@rules_group.command("list")
@click.argument("site")
def rules_list(site: str) -> None:
    """List SITE's rules."""
    from service.sites import site_rules

    with _session() as session:
        for rule in site_rules(session, _find(session, site).id):
            click.echo(f"{rule.id}\t{rule.list}\t{rule.field}\t{rule.value}")


@rules_group.command("remove")
@click.argument("rule_id", type=int)
def rules_remove(rule_id: int) -> None:
    """Remove the rule with RULE_ID."""
    with _session() as session:
        rule = session.get(Rule, rule_id)
        if rule is None:
            raise click.ClickException(f"no rule {rule_id}")
        session.delete(rule)
        session.commit()
        click.echo(f"removed rule {rule_id}")


@click.group("users")
def users_group() -> None:
    """People who sign in to the moderation pages."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.MODERATOR.value,
    show_default=True,
)
@click.option("--site", "sites", multiple=True, help="Limit a moderator to this site (repeatable).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def users_add(name: str, role: str, sites: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user who signs in as NAME (asks for the password twice)."""
    from service.users import UserError, add_user

    if sites and role == Role.ADMIN.value:
        raise click.UsageError("admins see every site: --site is for moderators")
    password = _read_password(password_stdin)
    with _session() as session:
        limited = [_find(session, site) for site in sites]
        try:
            user = add_user(session, name, password, Role(role), limited)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        where = ", ".join(site.url for site in limited) or "every site"
        click.echo(f"user {user.id}: {user.name} ({user.role}, {where})")


@users_group.command("list")
def users_list() -> None:
    """List users, their roles and the sites they are limited to."""
    from service.users import user_site_ids

    with _session() as session:
        urls = {site_id: url for site_id, url in session.execute(select(Site.id, Site.url))}
        for user in session.scalars(select(User).order_by(User.name)):
            limited = [urls[i] for i in user_site_ids(session, user.id) if i in urls]
            where = (
                "every site" if user.role == Role.ADMIN.value or not limited else ", ".join(limited)
            )
            click.echo(f"{user.id}\t{user.name}\t{user.role}\t{where}")


@users_group.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove user NAME (their decisions stay in the audit log under that name)."""
    from service.users import UserError, find_user, remove_user

    with _session() as session:
        try:
            remove_user(session, find_user(session, name))
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"removed user {name}")


@users_group.command("allow-site")
@click.argument("name")
@click.argument("site")
def users_allow_site(name: str, site: str) -> None:
    """Limit moderator NAME to SITE (id or URL), in addition to sites allowed before."""
    from service.users import UserError, allow_site, find_user

    with _session() as session:
        try:
            user = find_user(session, name)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        if user.role == Role.ADMIN.value:
            raise click.ClickException(f"{name} is an admin and sees every site")
        found = _find(session, site)
        allow_site(session, user, found)
        click.echo(f"{name} may moderate {found.url}")
