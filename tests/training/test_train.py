"""Training: weights, thresholds and the card it fills in."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from model import SpamModel
from model.features import comments_to_matrix
from tests.factories import make_examples
from training import train as train_module
from training.data import Dataset, Example, SourceReport
from training.pipeline import merged_params
from training.train import (
    choose_thresholds,
    example_matrix,
    fit,
    fit_matrix,
    fit_with_shared_features,
    sample_weights,
    train,
)


def _dataset(examples: list[Example]) -> Dataset:
    reports = [SourceReport("fixture.jsonl", "akismet-jsonl", "fixture", "0" * 64, len(examples))]
    return Dataset(examples, reports)


def test_classes_weigh_the_same_within_each_source() -> None:
    examples = make_examples(30)[:20] + [replace(e, source="other") for e in make_examples(9)]
    weights = sample_weights(examples, merged_params({"source_weights": {}}))
    for source in ("fixture", "other"):
        for label in (0, 1):
            mask = [e.source == source and e.label == label for e in examples]
            size = sum(e.source == source for e in examples)
            assert weights[mask].sum() == np.float64(size / 2)


def test_a_source_weight_scales_that_source() -> None:
    examples = make_examples(10) + [replace(e, source="seed") for e in make_examples(10, seed=1)]
    weights = sample_weights(examples, merged_params({"source_weights": {"seed": 3.0}}))
    assert weights[10:].sum() == 3 * weights[:10].sum()


def test_a_signal_block_no_row_fills_is_dropped_and_scoring_still_matches() -> None:
    examples = [
        replace(e, comment={"comment_content": e.comment["comment_content"].split("http")[0]})
        for e in make_examples(80)
    ]
    pipeline = fit(examples, merged_params({"char_min_df": 1}))
    columns = pipeline.named_steps["features"]
    assert columns.named_transformers_["author_signals"] == "drop"
    model = SpamModel(pipeline, train(_dataset(examples), {"char_min_df": 1})[1])
    comments = [e.comment for e in examples] + [{"comment_author": "New Name"}]
    batch = pipeline.predict_proba(comments_to_matrix(comments))[:, 1]
    fast = [model.fast.probability(c) for c in comments]
    assert np.allclose(batch, fast, atol=1e-9)


def test_thresholds_keep_blocked_ham_under_the_targets() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([0] * 1000 + [1] * 1000)
    scores = np.concatenate([rng.beta(2, 8, 1000), rng.beta(8, 2, 1000)])
    weights = np.ones(2000)
    t = choose_thresholds(labels, scores, weights)
    ham = scores[labels == 0]
    assert np.mean(ham >= t.spam) <= 0.005
    assert np.mean(ham >= t.discard) <= 0.0005
    assert np.mean(ham >= t.unsure) <= 0.05
    assert t.unsure <= t.spam <= t.discard and t.spam >= 0.5


def test_weighted_thresholds_protect_the_heavier_source() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.9, 0.1, 0.1, 0.1, 0.95, 0.95])
    light = choose_thresholds(labels, scores, np.array([0.01, 1, 1, 1, 1, 1]))
    heavy = choose_thresholds(labels, scores, np.array([10.0, 1, 1, 1, 1, 1]))
    assert heavy.spam > 0.9 >= light.spam


def test_the_card_holds_validation_metrics_per_source(tiny_dataset: Dataset) -> None:
    _, card = train(tiny_dataset, {"char_min_df": 1})
    validation = card.metrics["validation"]
    assert set(validation["by_source"]) == {"fixture"}
    assert 0.0 <= validation["overall"]["weighted_blocked_ham_at_spam_threshold"] <= 0.005
    assert card.params["char_min_df"] == 1
    assert card.licences == []


Rows = tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture
def rows() -> Rows:
    """Parameters, then the pipeline's input, labels and weights of 120 fixture comments."""
    examples = make_examples(120)
    params = merged_params({"char_min_df": 1})
    labels = np.array([e.label for e in examples])
    return params, example_matrix(examples), labels, sample_weights(examples, params)


def test_shared_features_give_the_same_final_model_as_a_plain_fit(rows: Rows) -> None:
    params, matrix, labels, weights = rows
    shared, _ = fit_with_shared_features(params, matrix, labels, weights, folds=3)
    plain = fit_matrix(params, matrix, labels, weights)
    assert np.array_equal(shared.predict_proba(matrix), plain.predict_proba(matrix))


def test_shared_features_score_each_row_with_a_classifier_that_did_not_see_it(
    rows: Rows,
) -> None:
    params, matrix, labels, weights = rows
    pipeline, scores = fit_with_shared_features(params, matrix, labels, weights, folds=3)
    in_sample = pipeline.predict_proba(matrix)[:, 1]
    # Out-of-fold scores are less sure of the truth than the final model is of its own rows.
    truth_margin = np.where(labels == 1, scores, 1 - scores)
    assert truth_margin.mean() < np.where(labels == 1, in_sample, 1 - in_sample).mean()
    assert not np.allclose(scores, in_sample)


def test_a_large_training_set_shares_features_across_three_folds_and_says_so(
    tiny_dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_module, "SHARED_FEATURES_MIN_ROWS", 100)
    said: list[str] = []
    _, card = train(tiny_dataset, {"char_min_df": 1}, progress=said.append)
    assert "validation fold 3/3" in said and "validation fold 4/5" not in said
    assert "3 folds, not 5, sharing one vocabulary" in card.threshold_method


def test_a_small_training_set_fits_each_fold_from_scratch(tiny_dataset: Dataset) -> None:
    said: list[str] = []
    _, card = train(tiny_dataset, {"char_min_df": 1}, progress=said.append)
    assert "validation fold 5/5" in said
    assert "sharing one vocabulary" not in card.threshold_method
