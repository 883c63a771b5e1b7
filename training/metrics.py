"""Metrics as plain dicts: spam caught (SC), blocked ham (BH), MCC, and ranking measures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def _confusion(y: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int, int]:
    tp = int(np.sum((predicted == 1) & (y == 1)))
    fp = int(np.sum((predicted == 1) & (y == 0)))
    tn = int(np.sum((predicted == 0) & (y == 0)))
    fn = int(np.sum((predicted == 0) & (y == 1)))
    return tp, fp, tn, fn


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def decision_metrics(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, threshold: float
) -> dict[str, Any]:
    """Metrics of calling spam every score at or above `threshold`."""
    y = np.asarray(labels, dtype=int)
    predicted = (np.asarray(scores, dtype=float) >= threshold).astype(int)
    tp, fp, tn, fn = _confusion(y, predicted)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    denominator = math.sqrt(float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    return {
        "threshold": threshold,
        "n": len(y),
        "accuracy": _ratio(tp + tn, len(y)),
        "spam_caught": recall,
        "blocked_ham": _ratio(fp, fp + tn),
        "precision": precision,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "mcc": _ratio(tp * tn - fp * fn, denominator),
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
    }


def threshold_for_blocked_ham(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    max_blocked_ham: float,
    weights: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Return the lowest threshold whose blocked-ham rate is at most `max_blocked_ham`.

    With `weights`, the rate is the blocked share of the hams' total weight.
    """
    y = np.asarray(labels, dtype=int)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    ham_scores = np.asarray(scores, dtype=float)[y == 0]
    order = np.argsort(-ham_scores, kind="stable")
    ham, ham_weights = ham_scores[order], w[y == 0][order]
    budget = max_blocked_ham * float(ham_weights.sum()) + 1e-9
    allowed = int(np.searchsorted(np.cumsum(ham_weights), budget, side="right"))
    if allowed >= len(ham):
        return 0.0
    # Just above the (allowed+1)-th highest ham score, so only the allowed hams reach it.
    return float(np.nextafter(ham[allowed], np.inf))


def spam_caught_at_blocked_ham(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, max_blocked_ham: float
) -> float:
    """Share of spam caught at the lowest threshold keeping blocked ham at or under the rate."""
    threshold = threshold_for_blocked_ham(labels, scores, max_blocked_ham)
    return float(decision_metrics(labels, scores, threshold)["spam_caught"])


def ranking_metrics(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision) and spam caught at 1 % and 0.1 % blocked ham."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    if len(set(y.tolist())) < 2:
        raise ValueError("ranking metrics need both spam and ham")
    return {
        "roc_auc": float(roc_auc_score(y, s)),
        "pr_auc": float(average_precision_score(y, s)),
        "spam_caught_at_1pct_blocked_ham": spam_caught_at_blocked_ham(y, s, 0.01),
        "spam_caught_at_0.1pct_blocked_ham": spam_caught_at_blocked_ham(y, s, 0.001),
    }
