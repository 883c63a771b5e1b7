"""`spamward models`: the model registry from the command line."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from service.admin_cli import _session


def _actor() -> str:
    # Set by the admin page when it starts a retraining on someone's behalf.
    return os.environ.get("SPAMWARD_RETRAIN_ACTOR") or f"cli:{getpass.getuser()}"


@click.group("models")
def models_group() -> None:
    """Registered model versions; promote one, or roll back to the one before."""


@models_group.command("list")
def models_list() -> None:
    """List model versions, newest first; `*` marks the champion."""
    from service.registry import list_versions

    with _session() as session:
        rows = list_versions(session)
        if not rows:
            click.echo("no registered models: the service runs its model folder's model")
        for row in rows:
            auc = row.metrics.get("roc_auc")
            figures = f"\tROC AUC {auc:.4f}" if isinstance(auc, float) else ""
            mark = "*" if row.champion else " "
            click.echo(f"{mark} {row.version}\t{row.origin}\t{row.created_at}{figures}")


@models_group.command("import")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--promote", is_flag=True, help="Make it the champion at once.")
def models_import(folder: Path, promote: bool) -> None:
    """Register the model saved in FOLDER (as `spamward train --out` writes it)."""
    from model import ModelError
    from service.context import get_settings
    from service.registry import RegistryError, ensure_current_registered, register_folder
    from service.registry import promote as promote_version

    with _session() as session:
        try:
            ensure_current_registered(session, get_settings().model_dir)
            version = register_folder(session, folder, "import")
            click.echo(f"registered {version.version} (sha256 {version.sha256[:16]}...)")
            if promote:
                promote_version(session, version.version, _actor())
                click.echo(f"{version.version} is the champion")
        except (ModelError, RegistryError) as exc:
            raise click.ClickException(str(exc)) from exc


@models_group.command("promote")
@click.argument("version")
def models_promote(version: str) -> None:
    """Make VERSION the champion; every instance switches within seconds."""
    from service.context import get_settings
    from service.registry import RegistryError, ensure_current_registered, promote

    with _session() as session:
        try:
            ensure_current_registered(session, get_settings().model_dir)
            promote(session, version, _actor())
        except RegistryError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{version} is the champion")


@models_group.command("rollback")
def models_rollback() -> None:
    """Make the champion's predecessor the champion again."""
    from service.models import ModelVersion
    from service.registry import RegistryError, rollback

    with _session() as session:
        try:
            promotion = rollback(session, _actor())
        except RegistryError as exc:
            raise click.ClickException(str(exc)) from exc
        back = session.get(ModelVersion, promotion.model_id)
        click.echo(f"rolled back: {back.version if back else promotion.model_id} is the champion")


@click.command("retrain")
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Base corpora (files or folders); default: those the champion's card names.",
)
@click.option("--margin", type=click.FloatRange(0, 1), default=None, help="Gate margin [0.01].")
@click.option("--no-promote", is_flag=True, help="Register the challenger but never promote it.")
@click.option(
    "--reports",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where reports go [instance/reports].",
)
def retrain_command(
    data: tuple[Path, ...], margin: float | None, no_promote: bool, reports: Path | None
) -> None:
    """Train a challenger on the base corpora plus every labelled check; promote it if the gate
    passes (not worse than the champion by more than the margin on held-out labels)."""
    from flask import current_app

    from service.context import get_settings
    from service.jobs import JobAlreadyRunning
    from service.retraining import RetrainError, run_retrain
    from training.retrain import DEFAULT_MARGIN

    os.nice(10)  # the service on the same machine goes first
    with _session() as session:
        folder = reports or Path(current_app.instance_path) / "reports"
        try:
            result = run_retrain(
                session,
                get_settings().model_dir,
                folder,
                data,
                DEFAULT_MARGIN if margin is None else margin,
                not no_promote,
                _actor(),
                echo=lambda line: click.echo(line, err=True),
            )
        except (JobAlreadyRunning, RetrainError) as exc:
            raise click.ClickException(str(exc)) from exc
    for reason in result["gate"]["reasons"]:
        click.echo(f"  {reason}")
    verdict = "promoted" if result["promoted"] else "not promoted"
    passed = "passed" if result["gate"]["passed"] else "failed"
    click.echo(f"challenger {result['version']}: gate {passed}, {verdict}")
    click.echo(f"report: {Path(result['report_dir']) / 'index.html'}")
