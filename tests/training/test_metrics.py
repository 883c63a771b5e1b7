"""Tests of decision and ranking metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import matthews_corrcoef

from training.metrics import (
    decision_metrics,
    ranking_metrics,
    spam_caught_at_blocked_ham,
    threshold_for_blocked_ham,
)

# Ten comments, threshold 0.5: tp=3 (0.9 0.8 0.6), fn=1 (0.4), fp=2 (0.7 0.5), tn=4.
LABELS = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
SCORES = [0.9, 0.8, 0.6, 0.4, 0.7, 0.5, 0.3, 0.2, 0.1, 0.0]


def test_confusion_counts_are_right_on_a_hand_worked_example() -> None:
    result = decision_metrics(LABELS, SCORES, 0.5)
    assert result["confusion"] == {"tp": 3, "fp": 2, "tn": 4, "fn": 1}


def test_a_score_equal_to_the_threshold_counts_as_spam() -> None:
    result = decision_metrics([0, 1], [0.5, 0.5], 0.5)
    assert result["confusion"] == {"tp": 1, "fp": 1, "tn": 0, "fn": 0}


def test_rates_are_right_on_a_hand_worked_example() -> None:
    result = decision_metrics(LABELS, SCORES, 0.5)
    assert result["n"] == 10
    assert result["threshold"] == 0.5
    assert result["accuracy"] == pytest.approx(7 / 10)
    assert result["spam_caught"] == pytest.approx(3 / 4)
    assert result["blocked_ham"] == pytest.approx(2 / 6)
    assert result["precision"] == pytest.approx(3 / 5)
    assert result["f1"] == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))


def test_mcc_is_right_on_a_hand_worked_example() -> None:
    result = decision_metrics(LABELS, SCORES, 0.5)
    expected = (3 * 4 - 2 * 1) / math.sqrt(5 * 4 * 6 * 5)
    assert result["mcc"] == pytest.approx(expected)


@pytest.mark.parametrize("threshold", [0.05, 0.35, 0.5, 0.65, 0.85])
def test_mcc_agrees_with_scikit_learn(threshold: float) -> None:
    predicted = [int(s >= threshold) for s in SCORES]
    result = decision_metrics(LABELS, SCORES, threshold)
    assert result["mcc"] == pytest.approx(matthews_corrcoef(LABELS, predicted))


def test_perfect_separation_gives_mcc_one() -> None:
    assert decision_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 0.5)["mcc"] == pytest.approx(1.0)


def test_inverted_separation_gives_mcc_minus_one() -> None:
    assert decision_metrics([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0.5)["mcc"] == pytest.approx(-1.0)


def test_metrics_accept_numpy_arrays() -> None:
    result = decision_metrics(np.array(LABELS), np.array(SCORES), 0.5)
    assert result["confusion"] == {"tp": 3, "fp": 2, "tn": 4, "fn": 1}


def test_nothing_predicted_spam_gives_zero_precision_f1_and_mcc() -> None:
    result = decision_metrics([1, 0, 0], [0.2, 0.1, 0.3], 0.9)
    assert result["precision"] == 0.0
    assert result["f1"] == 0.0
    assert result["mcc"] == 0.0
    assert result["spam_caught"] == 0.0
    assert result["blocked_ham"] == 0.0


def test_only_ham_gives_zero_spam_caught_and_mcc() -> None:
    result = decision_metrics([0, 0, 0], [0.9, 0.1, 0.2], 0.5)
    assert result["spam_caught"] == 0.0
    assert result["mcc"] == 0.0
    assert result["blocked_ham"] == pytest.approx(1 / 3)


def test_only_spam_gives_zero_blocked_ham() -> None:
    result = decision_metrics([1, 1], [0.9, 0.1], 0.5)
    assert result["blocked_ham"] == 0.0
    assert result["spam_caught"] == pytest.approx(0.5)
    assert result["mcc"] == 0.0


def test_no_examples_give_zero_everywhere() -> None:
    result = decision_metrics([], [], 0.5)
    assert result["n"] == 0
    rates = ("accuracy", "spam_caught", "blocked_ham", "precision", "f1", "mcc")
    assert [result[key] for key in rates] == [0.0] * len(rates)


# threshold_for_blocked_ham

RNG = np.random.default_rng(7)
MANY_LABELS = np.array([0] * 1000 + [1] * 300)
MANY_SCORES = np.concatenate([RNG.beta(2, 5, 1000), RNG.beta(5, 2, 300)])


def _blocked_ham(labels: np.ndarray, scores: np.ndarray, threshold: float) -> int:
    return int(np.sum((labels == 0) & (scores >= threshold)))


@pytest.mark.parametrize("rate", [0.0, 0.001, 0.01, 0.05, 0.1, 0.29, 0.5])
def test_at_most_the_allowed_share_of_ham_reaches_the_threshold(rate: float) -> None:
    threshold = threshold_for_blocked_ham(MANY_LABELS, MANY_SCORES, rate)
    assert _blocked_ham(MANY_LABELS, MANY_SCORES, threshold) <= rate * 1000 + 1e-9


@pytest.mark.parametrize("rate", [0.0, 0.001, 0.01, 0.05, 0.07, 0.29, 0.5, 0.999])
def test_blocked_ham_equals_the_allowed_count_when_scores_are_distinct(rate: float) -> None:
    assert len(set(MANY_SCORES.tolist())) == len(MANY_SCORES)
    threshold = threshold_for_blocked_ham(MANY_LABELS, MANY_SCORES, rate)
    assert _blocked_ham(MANY_LABELS, MANY_SCORES, threshold) == math.floor(rate * 1000 + 1e-9)


def test_threshold_is_the_lowest_that_keeps_the_rate() -> None:
    threshold = threshold_for_blocked_ham(MANY_LABELS, MANY_SCORES, 0.01)
    lower = math.nextafter(threshold, -math.inf)
    assert _blocked_ham(MANY_LABELS, MANY_SCORES, lower) > 10


def test_threshold_on_a_small_example_sits_just_above_a_ham_score() -> None:
    # Ham scores 0.7 0.5 0.3 0.2 0.1 0.0: a third allowed means 2 ham, so just above 0.3.
    threshold = threshold_for_blocked_ham(LABELS, SCORES, 1 / 3)
    assert threshold > 0.3
    assert threshold == math.nextafter(0.3, math.inf)


def test_zero_allowed_ham_puts_the_threshold_above_every_ham() -> None:
    threshold = threshold_for_blocked_ham(LABELS, SCORES, 0.0)
    assert threshold > 0.7
    assert decision_metrics(LABELS, SCORES, threshold)["confusion"]["fp"] == 0


def test_tied_ham_scores_never_exceed_the_allowed_share() -> None:
    labels = [0, 0, 0, 0, 1]
    scores = [0.8, 0.8, 0.8, 0.1, 0.9]
    threshold = threshold_for_blocked_ham(labels, scores, 0.5)
    assert _blocked_ham(np.array(labels), np.array(scores), threshold) <= 2


def test_allowing_all_ham_gives_threshold_zero() -> None:
    assert threshold_for_blocked_ham(LABELS, SCORES, 1.0) == 0.0


def test_no_ham_gives_threshold_zero() -> None:
    assert threshold_for_blocked_ham([1, 1], [0.2, 0.9], 0.01) == 0.0


def test_threshold_at_a_top_ham_score_of_one_is_above_one() -> None:
    threshold = threshold_for_blocked_ham([0, 1], [1.0, 1.0], 0.0)
    assert decision_metrics([0, 1], [1.0, 1.0], threshold)["confusion"]["fp"] == 0


# spam_caught_at_blocked_ham


def test_spam_caught_at_blocked_ham_on_a_small_example() -> None:
    # Threshold just above 0.3 (two ham allowed): spam 0.9 0.8 0.6 0.4 are all caught.
    assert spam_caught_at_blocked_ham(LABELS, SCORES, 1 / 3) == 1.0


def test_spam_caught_at_zero_blocked_ham_on_a_small_example() -> None:
    # Threshold just above 0.7: spam 0.9 and 0.8 are caught, 0.6 and 0.4 are not.
    assert spam_caught_at_blocked_ham(LABELS, SCORES, 0.0) == 0.5


def test_spam_caught_grows_with_the_allowed_blocked_ham() -> None:
    caught = [spam_caught_at_blocked_ham(MANY_LABELS, MANY_SCORES, r) for r in (0.0, 0.01, 0.1)]
    assert caught == sorted(caught)
    assert caught[0] < caught[-1]


# ranking_metrics


def test_ranking_metrics_of_a_perfect_ranking_are_one() -> None:
    result = ranking_metrics([0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9])
    assert result == {
        "roc_auc": 1.0,
        "pr_auc": 1.0,
        "spam_caught_at_1pct_blocked_ham": 1.0,
        "spam_caught_at_0.1pct_blocked_ham": 1.0,
    }


def test_roc_auc_is_right_on_a_hand_worked_example() -> None:
    # Of the 4 x 6 spam-ham pairs, spam wins 21 (0.6 and 0.4 lose to 0.7; 0.4 loses to 0.5).
    result = ranking_metrics(LABELS, SCORES)
    assert result["roc_auc"] == pytest.approx(21 / 24)


def test_ranking_metrics_are_floats_between_zero_and_one() -> None:
    result = ranking_metrics(MANY_LABELS, MANY_SCORES)
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in result.values())


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1, 1], []])
def test_ranking_metrics_need_both_classes(labels: list[int]) -> None:
    with pytest.raises(ValueError, match="both spam and ham"):
        ranking_metrics(labels, [0.5] * len(labels))
