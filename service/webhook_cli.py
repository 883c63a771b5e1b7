"""`spamward sites set-webhook` and `spamward webhooks`: webhooks as an admin manages them."""

from __future__ import annotations

import sys

import click

from service.admin_cli import _app, _find, _session, sites_group


@sites_group.command("set-webhook")
@click.argument("site")
@click.argument("url", required=False)
@click.option(
    "--secret-stdin",
    is_flag=True,
    help="Read the signing secret (16 to 200 characters) from stdin.",
)
@click.option("--clear", is_flag=True, help="Stop sending webhooks to SITE.")
def sites_set_webhook(site: str, url: str | None, secret_stdin: bool, clear: bool) -> None:
    """Send SITE's (id or URL) moderation events to URL, or --clear.

    Without --secret-stdin a secret is generated and printed this once.
    """
    from service.webhooks import WebhookError, clear_webhook, set_webhook

    if clear == (url is not None) or (clear and secret_stdin):
        raise click.UsageError("give a URL (and optionally --secret-stdin), or --clear alone")
    secret = sys.stdin.read().strip() if secret_stdin else None
    with _session() as session:
        found = _find(session, site)
        if url is None:
            clear_webhook(session, found)
            click.echo(f"webhooks of {found.url} cleared")
            return
        try:
            secret = set_webhook(session, found, url, secret)
        except WebhookError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"webhooks of {found.url} go to {found.webhook_url}")
        if not secret_stdin:
            click.echo(f"signing secret: {secret}")
            click.echo("Keep the secret now: it is not shown again.", err=True)


@click.group("webhooks")
def webhooks_group() -> None:
    """Queued, delivered and failed webhook events."""


@webhooks_group.command("list")
@click.option("--site", "site_ref", help="Only this site's events (id or URL).")
@click.option("--failed", is_flag=True, help="Only events that were given up.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
def webhooks_list(site_ref: str | None, failed: bool, limit: int) -> None:
    """List the newest events: id, site, check, state, attempts, next attempt, last error."""
    from service.webhooks import list_events

    with _session() as session:
        site_id = _find(session, site_ref).id if site_ref else None
        for item in list_events(session, site_id, failed, limit):
            when = item.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S")
            click.echo(
                f"{item.id}\tsite {item.site_id}\tcheck {item.check_id}\t{item.state}"
                f"\tattempts {item.attempts}\tnext {when}\t{item.last_error or ''}"
            )


@webhooks_group.command("retry")
@click.argument("event_id", type=int)
def webhooks_retry(event_id: int) -> None:
    """Queue the failed event EVENT_ID again, due now."""
    from service.webhooks import WebhookError, retry_event

    with _session() as session:
        try:
            retry_event(session, event_id)
        except WebhookError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"event {event_id} queued again")


@webhooks_group.command("deliver")
def webhooks_deliver() -> None:
    """Send the events due now, once (for cron, or when the service runs with webhooks off)."""
    from service.webhook_delivery import deliver_due

    app = _app()
    engine = app.extensions["spamward.engine"]
    try:
        attempts = deliver_due(engine)
    finally:
        engine.dispose()
    delivered = sum(1 for attempt in attempts if attempt.delivered)
    click.echo(f"{delivered} delivered, {len(attempts) - delivered} not delivered")
    for attempt in attempts:
        if not attempt.delivered:
            click.echo(f"event {attempt.event_id}: {attempt.error}", err=True)
