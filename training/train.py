"""Training: fit the pipeline, choose thresholds on out-of-fold scores, fill in the card."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from model.card import ModelCard
from model.decision import Thresholds
from model.features import (
    CONTENT_SIGNAL_COLUMN,
    FEATURE_VERSION,
    TEXT_COLUMN,
    comments_to_matrix,
)
from training.data import Dataset, Example
from training.metrics import decision_metrics, ranking_metrics, threshold_for_blocked_ham
from training.pipeline import build_pipeline, merged_params

Progress = Callable[[str], None]

# Targets for the default thresholds, measured on out-of-fold validation scores.
SPAM_MAX_BLOCKED_HAM = 0.005
UNSURE_MAX_BLOCKED_HAM = 0.05
UNSURE_MIN_SPAM_CAUGHT = 0.99
DISCARD_MAX_BLOCKED_HAM = 0.0005
DISCARD_FLOOR = 0.95
THRESHOLD_METHOD = (
    "Chosen on 5-fold stratified out-of-fold scores of the training data, each row weighted as "
    "in training (classes balanced within each source, times the source's weight), so blocked "
    "ham is a weighted share in which every source counts as much as it does in training: "
    f"spam = lowest threshold with blocked ham <= {SPAM_MAX_BLOCKED_HAM:.1%} (at least 0.5); "
    f"unsure = the threshold keeping {UNSURE_MIN_SPAM_CAUGHT:.0%} of spam at or above it, "
    f"raised until blocked ham <= {UNSURE_MAX_BLOCKED_HAM:.0%}, never above spam; "
    f"discard = lowest threshold >= max(spam, {DISCARD_FLOOR}) with blocked ham <= "
    f"{DISCARD_MAX_BLOCKED_HAM:.2%}."
)
# From this many training rows on, validation folds share one fitted set of vectorizers
# (see fit_with_shared_features), and three folds stand in for five: vectorizing 100,000
# comments five times over takes minutes, and a third of them is plenty to set thresholds on.
SHARED_FEATURES_MIN_ROWS = 20_000
SHARED_FEATURES_FOLDS = 3
SHARED_FEATURES_NOTE = (
    f" With {SHARED_FEATURES_MIN_ROWS:,} training rows or more: {SHARED_FEATURES_FOLDS} folds, "
    "not 5, sharing one vocabulary and idf fitted (without labels) on all rows; only the "
    "classifier is fitted per fold."
)
# Licence and citation of each known source, recorded in the card of a model trained on it.
LICENCES = {
    "youtube": "UCI YouTube Spam Collection (UCI 380), CC BY 4.0: Alberto, Lochter, Almeida. "
    "TubeSpam: Comment Spam Filtering on YouTube. IEEE ICMLA 2015. doi:10.1109/ICMLA.2015.37",
    "sms": "UCI SMS Spam Collection v.1 (UCI 228), CC BY 4.0 per UCI, copyright the authors: "
    "Almeida, Gomez Hidalgo, Yamakami. Contributions to the Study of SMS Spam Filtering: "
    "New Collection and Results. ACM DocEng 2011",
    "seed": "Spamward seed set (training/seed/), written by the Spamward project",
}


def _quiet(_: str) -> None:
    return None


# Public corpora unlike the comments the service scores. Their rows carry a `corpus=NAME` token
# (its own pipeline block) that absorbs what sets each corpus apart as a whole (SMS has no
# authors, say), so that no real signal has to; comments sent to the service never carry it.
CORPUS_SOURCES = frozenset({"youtube", "sms"})


def example_matrix(examples: Sequence[Example]) -> np.ndarray:
    """The pipeline's input for labelled examples, with corpus tokens on corpus rows."""
    matrix = comments_to_matrix([e.comment for e in examples])
    for row, example in enumerate(examples):
        if example.source in CORPUS_SOURCES:
            signals = matrix[row, CONTENT_SIGNAL_COLUMN]
            matrix[row, CONTENT_SIGNAL_COLUMN] = f"{signals} corpus={example.source}".strip()
    return matrix


def sample_weights(examples: Sequence[Example], params: dict[str, Any]) -> np.ndarray:
    """Weight each example by its source's weight, balancing classes within a source if asked.

    With balancing, each class of a source weighs half of that source's size in total.
    """
    sizes = Counter(e.source for e in examples)
    class_sizes = Counter((e.source, e.label) for e in examples)
    weights = []
    for e in examples:
        weight = float(params["source_weights"].get(e.source, 1.0))
        if params["balance_classes_per_source"]:
            weight *= sizes[e.source] / (2 * class_sizes[(e.source, e.label)])
        weights.append(weight)
    return np.array(weights)


def _unfitted(params: dict[str, Any], matrix: np.ndarray) -> Pipeline:
    """A fresh pipeline; a signal block no training row has any token for is dropped."""
    pipeline = build_pipeline(params)
    for name, vectorizer, column in pipeline.named_steps["features"].transformers:
        if vectorizer.vocabulary is not None:
            continue  # a fixed vocabulary cannot be empty
        if column != TEXT_COLUMN and not any(matrix[:, column]):
            # e.g. author signals when training on SMS only: no vocabulary to learn.
            pipeline.set_params(**{f"features__{name}": "drop"})
    return pipeline


def fit_matrix(
    params: dict[str, Any], matrix: np.ndarray, labels: np.ndarray, weights: np.ndarray
) -> Pipeline:
    """Fit a fresh pipeline on the pipeline's input rows."""
    pipeline = _unfitted(params, matrix)
    pipeline.fit(matrix, labels, classifier__sample_weight=weights)
    return pipeline


def fit(examples: Sequence[Example], params: dict[str, Any]) -> Pipeline:
    """Fit a fresh pipeline on `examples`."""
    matrix = example_matrix(examples)
    labels = np.array([e.label for e in examples])
    return fit_matrix(params, matrix, labels, sample_weights(examples, params))


def _folds(
    labels: np.ndarray, folds: int, seed: int, progress: Progress
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(training rows, held-out rows) of each stratified fold, saying which fold it is."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for number, split in enumerate(splitter.split(np.zeros(len(labels)), labels), start=1):
        progress(f"validation fold {number}/{folds}")
        yield split


def out_of_fold_scores(
    params: dict[str, Any],
    matrix: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    progress: Progress = _quiet,
) -> np.ndarray:
    """Score every row with a model that did not see it (stratified k-fold)."""
    scores = np.zeros(len(labels))
    for train, test in _folds(labels, folds, seed, progress):
        model = fit_matrix(params, matrix[train], labels[train], weights[train])
        scores[test] = model.predict_proba(matrix[test])[:, 1]
    return scores


def fit_with_shared_features(
    params: dict[str, Any],
    matrix: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    progress: Progress = _quiet,
) -> tuple[Pipeline, np.ndarray]:
    """Fit the pipeline and score every row out of fold, vectorizing the rows only once.

    The vectorizers (vocabulary and idf, which never see a label) are fitted on all rows; only
    the classifier is fitted per fold. The out-of-fold scores are a little kinder than fully
    separate folds (a held-out row's rare n-grams are in the vocabulary, though no classifier
    that scored it has a weight for them), which matters little on a large training set and
    saves most of the time there. The final model is exactly the one `fit_matrix` gives.
    """
    pipeline = _unfitted(params, matrix)
    progress(f"fitting the vectorizers on {len(labels)} comments")
    features = pipeline.named_steps["features"].fit_transform(matrix)
    scores = np.zeros(len(labels))
    for train, test in _folds(labels, folds, seed, progress):
        classifier = clone(pipeline.named_steps["classifier"])
        classifier.fit(features[train], labels[train], sample_weight=weights[train])
        scores[test] = classifier.predict_proba(features[test])[:, 1]
    progress("fitting the final model on all data")
    pipeline.named_steps["classifier"].fit(features, labels, sample_weight=weights)
    return pipeline, scores


def choose_thresholds(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> Thresholds:
    """Derive the unsure, spam and discard thresholds from weighted validation scores."""

    def at_blocked_ham(rate: float) -> float:
        return threshold_for_blocked_ham(labels, scores, rate, weights)

    spam = max(0.5, at_blocked_ham(SPAM_MAX_BLOCKED_HAM))
    spam_scores = np.sort(scores[labels == 1])
    keep = spam_scores[int(np.floor((1 - UNSURE_MIN_SPAM_CAUGHT) * len(spam_scores)))]
    unsure = min(max(float(keep), at_blocked_ham(UNSURE_MAX_BLOCKED_HAM)), spam)
    discard = max(spam, DISCARD_FLOOR, at_blocked_ham(DISCARD_MAX_BLOCKED_HAM))
    return Thresholds(
        unsure=_round_up(unsure), spam=_round_up(spam), discard=min(1.0, _round_up(discard))
    )


def _round_up(threshold: float) -> float:
    """Round to 6 decimals upwards, so no score the threshold excluded gets back in."""
    return math.ceil(threshold * 1e6) / 1e6


def validation_metrics(
    examples: Sequence[Example], scores: np.ndarray, thresholds: Thresholds, weights: np.ndarray
) -> dict[str, Any]:
    """Out-of-fold metrics overall and per source, at the chosen thresholds."""
    labels = np.array([e.label for e in examples])
    sources = np.array([e.source for e in examples])
    ham = labels == 0
    blocked = ham & (scores >= thresholds.spam)
    result: dict[str, Any] = {
        "overall": {
            "weighted_blocked_ham_at_spam_threshold": float(
                weights[blocked].sum() / weights[ham].sum()
            ),
            **ranking_metrics(labels, scores),
            "at_spam_threshold": decision_metrics(labels, scores, thresholds.spam),
            "at_unsure_threshold": decision_metrics(labels, scores, thresholds.unsure),
            "at_discard_threshold": decision_metrics(labels, scores, thresholds.discard),
        },
        "by_source": {},
    }
    for source in sorted(set(sources.tolist())):
        mask = sources == source
        result["by_source"][source] = decision_metrics(labels[mask], scores[mask], thresholds.spam)
    return result


def train(
    dataset: Dataset, overrides: dict[str, Any] | None = None, progress: Progress = _quiet
) -> tuple[Pipeline, ModelCard]:
    """Train on a loaded dataset; return the fitted pipeline and its (unsaved) card."""
    params = merged_params(overrides)
    examples = dataset.examples
    labels = np.array([e.label for e in examples])
    if len(set(labels.tolist())) < 2:
        raise ValueError("training needs both spam and ham examples")
    progress(f"extracting features of {len(examples)} comments")
    matrix = example_matrix(examples)
    weights = sample_weights(examples, params)
    shared = len(examples) >= SHARED_FEATURES_MIN_ROWS
    if shared:
        pipeline, scores = fit_with_shared_features(
            params, matrix, labels, weights, folds=SHARED_FEATURES_FOLDS, progress=progress
        )
    else:
        scores = out_of_fold_scores(params, matrix, labels, weights, progress=progress)
        progress("fitting the final model on all data")
        pipeline = fit_matrix(params, matrix, labels, weights)
    thresholds = choose_thresholds(labels, scores, weights)
    card = ModelCard(
        version="",
        created_at="",
        artifact_file="",
        artifact_sha256="",
        feature_version=FEATURE_VERSION,
        thresholds=thresholds,
        threshold_method=THRESHOLD_METHOD + (SHARED_FEATURES_NOTE if shared else ""),
        environment={},
        sources=[r.as_dict() for r in dataset.reports],
        params=params,
        metrics={"validation": validation_metrics(examples, scores, thresholds, weights)},
        licences=[LICENCES[s] for s in sorted({e.source for e in examples}) if s in LICENCES],
    )
    return pipeline, card
