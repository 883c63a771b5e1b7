"""Retraining: the base corpora plus the service's own labels, a challenger, and the gate.

The newest labelled comments are held out by time: the challenger trains on the rest, and the
champion and the challenger are scored on the same held-out comments. The challenger passes the
gate only if it is not worse than the champion by more than `margin` on every gate metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from model import SpamModel
from model.card import ModelCard
from model.features import comments_to_matrix
from model.text import normalise_text
from training.data import Dataset, Example, SourceReport
from training.evaluate import Scored
from training.metrics import decision_metrics, ranking_metrics, spam_caught_at_blocked_ham
from training.train import train

Progress = Callable[[str], None]

LABELS_SOURCE = "labels"
# The gate: spam caught while blocking at most this share of ham, and ROC AUC.
GATE_BLOCKED_HAM = 0.005
DEFAULT_MARGIN = 0.01
DEFAULT_HOLDOUT_FRACTION = 0.2
MIN_HOLDOUT = 20
# Labels given on this service are its own domain: they weigh like the seed set.
LABELS_WEIGHT = 3.0


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class LabelledComment:
    """A comment the service checked and a person (moderator or site) labelled."""

    comment: dict[str, str]
    label: int  # 1 spam, 0 ham
    labelled_at: datetime
    origin: str  # moderator or site
    check_id: int


@dataclass
class Retrained:
    """A challenger, its card, and the gate's verdict with both models' figures."""

    pipeline: Pipeline
    card: ModelCard
    report: dict[str, Any]
    scored: list[Scored] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the challenger passed the gate."""
        return bool(self.report["gate"]["passed"])


def split_by_time(
    labelled: Sequence[LabelledComment],
    holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION,
    min_holdout: int = MIN_HOLDOUT,
) -> tuple[list[LabelledComment], list[LabelledComment]]:
    """(training, held out): the newest `holdout_fraction` of labels, at least `min_holdout`.

    :raises ValueError: when there are too few labels, or the held-out part lacks a class.
    """
    ordered = sorted(labelled, key=lambda item: (item.labelled_at, item.check_id))
    size = max(min_holdout, round(len(ordered) * holdout_fraction))
    if len(ordered) < 2 * size:
        raise ValueError(
            f"retraining needs at least {2 * size} labelled checks to hold out {size}; "
            f"found {len(ordered)}"
        )
    training, held_out = ordered[:-size], ordered[-size:]
    if len({item.label for item in held_out}) < 2:
        raise ValueError("the newest labelled checks are all one label: no fair comparison")
    return training, held_out


def labelled_dataset(labelled: Sequence[LabelledComment]) -> Dataset:
    """The service's labels as a training dataset of their own source."""
    report = SourceReport("database", "labelled-checks", LABELS_SOURCE, "", len(labelled))
    examples = [
        Example(
            comment=item.comment,
            label=item.label,
            source=LABELS_SOURCE,
            file="database",
            line=item.check_id,
            row_index=row,
            key=normalise_text(item.comment.get("comment_content", "")),
        )
        for row, item in enumerate(labelled)
    ]
    report.kept = len(examples)
    return Dataset(examples, [report])


def gate_metrics(labels: np.ndarray, scores: np.ndarray, spam_threshold: float) -> dict[str, Any]:
    """The gate metrics (and a few more to show) of one model on the held-out labels."""
    return {
        "spam_caught_at_gate_blocked_ham": spam_caught_at_blocked_ham(
            labels, scores, GATE_BLOCKED_HAM
        ),
        **ranking_metrics(labels, scores),
        "at_spam_threshold": decision_metrics(labels, scores, spam_threshold),
    }


def judge(champion: dict[str, Any], challenger: dict[str, Any], margin: float) -> dict[str, Any]:
    """Compare on the gate metrics; pass when no metric is worse by more than `margin`."""
    reasons = []
    passed = True
    for metric in ("spam_caught_at_gate_blocked_ham", "roc_auc"):
        old, new = champion[metric], challenger[metric]
        if new < old - margin:
            passed = False
            reasons.append(f"{metric} {new:.4f} is worse than the champion's {old:.4f}")
        else:
            reasons.append(f"{metric} {new:.4f} vs the champion's {old:.4f}")
    return {
        "passed": passed,
        "margin": margin,
        "blocked_ham_rate": GATE_BLOCKED_HAM,
        "reasons": reasons,
    }


def _merged(base: Dataset | None, labels: Dataset) -> Dataset:
    if base is None:
        return labels
    return Dataset(base.examples + labels.examples, base.reports + labels.reports)


def retrain(
    base: Dataset | None,
    labelled: Sequence[LabelledComment],
    champion: SpamModel,
    overrides: dict[str, Any] | None = None,
    margin: float = DEFAULT_MARGIN,
    holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION,
    progress: Progress = _quiet,
) -> Retrained:
    """Train a challenger on `base` plus the older labels; judge it against the champion."""
    training, held_out = split_by_time(labelled, holdout_fraction)
    params = dict(champion.card.params) if champion.card.params else {}
    params.update(overrides or {})
    weights = dict(params.get("source_weights") or {"seed": 3.0})
    weights.setdefault(LABELS_SOURCE, LABELS_WEIGHT)
    params["source_weights"] = weights
    progress(f"training the challenger on {len(training)} labels and the base corpora")
    pipeline, card = train(_merged(base, labelled_dataset(training)), params, progress)
    progress(f"scoring champion and challenger on {len(held_out)} held-out labels")
    labels = np.array([item.label for item in held_out])
    comments = [item.comment for item in held_out]
    champion_scores = np.array(champion.probabilities(comments))
    challenger_scores = pipeline.predict_proba(comments_to_matrix(comments))[:, 1]
    figures = {
        "champion": gate_metrics(labels, champion_scores, champion.card.thresholds.spam),
        "challenger": gate_metrics(labels, challenger_scores, card.thresholds.spam),
    }
    report = {
        "champion_version": champion.version,
        "labels": {"training": len(training), "held_out": len(held_out)},
        "held_out_since": held_out[0].labelled_at.isoformat(),
        **figures,
        "gate": judge(figures["champion"], figures["challenger"], margin),
    }
    truth = labels.tolist()
    scored = [
        Scored("champion", truth, champion_scores.tolist(), champion.card.thresholds.spam),
        Scored("challenger", truth, challenger_scores.tolist(), card.thresholds.spam),
    ]
    return Retrained(pipeline, card, report, scored)
