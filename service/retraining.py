"""`spamward retrain`: assemble the data, train and judge a challenger, register it, maybe promote.

Imported only by the command line (and its tests): the serving app never imports training.
Nothing here touches the champion until the challenger is trained, saved, verified and
registered in one transaction, so killing a retraining at any point leaves the champion live
and no half-written artifact in the registry.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from model import SpamModel
from model.card import ModelCard
from model.persistence import save_model
from service.checking import model_comment
from service.jobs import RETRAIN_JOB, fail, report_progress, start_job, succeed
from service.models import Check, Label
from service.registry import (
    champion,
    ensure_current_registered,
    load_version,
    promote,
    register_folder,
)
from training.data import DataError, Dataset, load_dataset
from training.report import write_report
from training.retrain import DEFAULT_MARGIN, LABELS_SOURCE, LabelledComment, retrain

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class RetrainError(Exception):
    """A retraining cannot start or finish; the message says why."""


def labelled_checks(session: Session) -> list[LabelledComment]:
    """Every check a moderator or site labelled, test checks left out."""
    query = select(Check).where(Check.label.is_not(None), Check.is_test.is_(False))
    return [
        LabelledComment(
            comment=model_comment(check.fields),
            label=1 if check.label == Label.SPAM.value else 0,
            labelled_at=check.labelled_at or check.created_at,
            origin=check.label_source or "",
            check_id=check.id,
        )
        for check in session.scalars(query)
    ]


def base_paths(card: ModelCard, given: Sequence[Path]) -> list[Path]:
    """The base corpora: the paths given, else those the card records that exist here.

    A card's relative paths are tried from the working folder, then from the project folder.
    """
    if given:
        return list(given)
    found = []
    for source in card.sources:
        if source.get("source") == LABELS_SOURCE or not source.get("path"):
            continue
        path = Path(source["path"])
        candidates = [path] if path.is_absolute() else [path, PROJECT_ROOT / path]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is not None:
            found.append(hit)
    return found


def _base_dataset(card: ModelCard, given: Sequence[Path]) -> Dataset | None:
    paths = base_paths(card, given)
    if not paths:
        return None
    try:
        return load_dataset(paths)
    except DataError as exc:
        raise RetrainError(f"cannot read the base corpora: {exc}") from exc


def _current_champion(session: Session, model_dir: Path) -> SpamModel:
    ensure_current_registered(session, model_dir)
    live = champion(session)
    assert live is not None  # ensure_current_registered made one
    return load_version(live)


def run_retrain(
    session: Session,
    model_dir: Path,
    reports_dir: Path,
    data: Sequence[Path] = (),
    margin: float = DEFAULT_MARGIN,
    promote_if_better: bool = True,
    actor: str = "cli",
    echo: Callable[[str], None] = lambda _: None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one retraining as a recorded job; return its result (also stored on the job).

    :raises JobAlreadyRunning: when a retraining is running already.
    :raises RetrainError: when it fails; the job records the error and the champion stays.
    """
    job = start_job(session, RETRAIN_JOB, actor)

    def progress(text: str) -> None:
        echo(text)
        report_progress(session, job, text)

    try:
        result = _retrain(
            session,
            model_dir,
            reports_dir,
            data,
            margin,
            promote_if_better,
            actor,
            progress,
            overrides,
        )
    except BaseException as exc:  # KeyboardInterrupt too: the job must not stay "running"
        session.rollback()
        fail(session, job, exc)
        if isinstance(exc, Exception) and not isinstance(exc, RetrainError):
            raise RetrainError(f"retraining failed: {exc}") from exc
        raise
    succeed(session, job, result)
    return result


def _retrain(
    session: Session,
    model_dir: Path,
    reports_dir: Path,
    data: Sequence[Path],
    margin: float,
    promote_if_better: bool,
    actor: str,
    progress: Callable[[str], None],
    overrides: dict[str, Any] | None,
) -> dict[str, Any]:
    progress("loading the champion and the labelled checks")
    current = _current_champion(session, model_dir)
    labelled = labelled_checks(session)
    base = _base_dataset(current.card, data)
    progress(f"{len(labelled)} labelled checks; base corpora: {_describe(base)}")
    try:
        outcome = retrain(base, labelled, current, overrides, margin, progress=progress)
    except ValueError as exc:
        raise RetrainError(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="spamward-challenger-") as folder:
        progress("saving and registering the challenger")
        card = save_model(outcome.pipeline, outcome.card, Path(folder))
        report = {**outcome.report, "protocol": "retrain", "version": card.version}
        version = register_folder(session, Path(folder), "retrain")
    promoted = bool(outcome.passed and promote_if_better)
    report["promoted"] = promoted
    report_dir = reports_dir / card.version
    write_report(report, outcome.scored, report_dir)
    version.report = {**report, "report_dir": str(report_dir)}
    session.commit()
    if promoted:
        progress(f"promoting {card.version}")
        promote(session, card.version, actor)
    return version.report


def _describe(base: Dataset | None) -> str:
    if base is None:
        return "none found (give --data)"
    return f"{len(base.examples)} comments from {len(base.reports)} files"
