"""The `spamward` command: one entry point for training, evaluating and scoring."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from model import DEFAULT_MODEL_DIR, ModelError, SpamModel, Verdict
from service.admin_cli import db_group, serve_command, sites_group, users_group
from service.models_cli import models_group, retrain_command
from service.webhook_cli import webhooks_group
from training.cli import evaluate_command, train_command


def _model_dir() -> Path:
    return Path(os.environ.get("SPAMWARD_MODEL_DIR") or DEFAULT_MODEL_DIR)


def _print_verdict(verdict: Verdict) -> None:
    click.echo(f"probability: {verdict.probability:.4f}")
    click.echo(f"decision:    {verdict.decision.value}{' (discard)' if verdict.discard else ''}")
    click.echo(f"model:       {verdict.model_version}")
    explanation = verdict.explanation
    for title, items in (("tokens", explanation.tokens), ("signals", explanation.signals)):
        if items:
            click.echo(f"{title}:")
        for item in items:
            direction = "spam" if item.weight > 0 else "ham "
            click.echo(f"  {direction} {item.weight:+.3f}  {item.feature}")


@click.command("check")
@click.argument("text")
@click.option("--author", default="", help="comment_author")
@click.option("--email", default="", help="comment_author_email")
@click.option("--url", default="", help="comment_author_url")
@click.option("--ip", default="", help="user_ip")
@click.option("--user-agent", default="", help="user_agent")
@click.option("--type", "comment_type", default="", help="comment_type (comment, pingback, ...)")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Model folder (default: $SPAMWARD_MODEL_DIR or the shipped model).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def check_command(
    text: str,
    author: str,
    email: str,
    url: str,
    ip: str,
    user_agent: str,
    comment_type: str,
    model_dir: Path | None,
    as_json: bool,
) -> None:
    """Score one comment and explain the score."""
    fields = {
        "comment_content": text,
        "comment_author": author,
        "comment_author_email": email,
        "comment_author_url": url,
        "user_ip": ip,
        "user_agent": user_agent,
        "comment_type": comment_type,
    }
    comment = {k: v for k, v in fields.items() if v}
    try:
        model = SpamModel.load(model_dir or _model_dir())
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    verdict = model.check(comment)
    if as_json:
        click.echo(json.dumps(verdict.as_dict(), indent=2))
    else:
        _print_verdict(verdict)


@click.group()
@click.version_option(package_name="spamward")
def main() -> None:
    """Spamward: a self-hosted comment spam filter."""


main.add_command(train_command)
main.add_command(evaluate_command)
main.add_command(check_command)
main.add_command(serve_command)
main.add_command(db_group)
main.add_command(sites_group)
main.add_command(models_group)
main.add_command(retrain_command)
main.add_command(webhooks_group)
main.add_command(users_group)
