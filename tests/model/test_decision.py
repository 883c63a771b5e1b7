"""Tests of decision thresholds and of mapping a probability to a decision."""

from __future__ import annotations

import math

import pytest

from model.decision import Decision, Thresholds, decide
from model.errors import ModelError, ThresholdError

LOW, MID, HIGH = 0.3, 0.6, 0.9


@pytest.fixture
def thresholds() -> Thresholds:
    return Thresholds(unsure=LOW, spam=MID, discard=HIGH)


def _below(value: float) -> float:
    return math.nextafter(value, -math.inf)


# Thresholds validation


def test_ordered_thresholds_in_range_are_accepted() -> None:
    assert Thresholds(0.3, 0.6, 0.9).as_dict() == {"unsure": 0.3, "spam": 0.6, "discard": 0.9}


def test_equal_thresholds_are_accepted() -> None:
    assert Thresholds(0.5, 0.5, 0.5).spam == 0.5


def test_thresholds_at_zero_and_one_are_accepted() -> None:
    assert Thresholds(0.0, 0.0, 1.0).discard == 1.0


@pytest.mark.parametrize(
    "values",
    [(-0.01, 0.5, 0.9), (0.1, 1.01, 1.02), (0.1, 0.5, 1.5), (-1.0, -0.5, 0.0)],
)
def test_thresholds_outside_zero_to_one_raise_threshold_error(
    values: tuple[float, float, float],
) -> None:
    with pytest.raises(ThresholdError, match=r"\[0, 1\]"):
        Thresholds(*values)


def test_nan_threshold_raises_threshold_error() -> None:
    with pytest.raises(ThresholdError):
        Thresholds(0.1, math.nan, 0.9)


@pytest.mark.parametrize(
    "values",
    [(0.6, 0.5, 0.9), (0.1, 0.9, 0.8), (0.9, 0.6, 0.3), (0.5, 0.5, 0.49)],
)
def test_out_of_order_thresholds_raise_threshold_error(values: tuple[float, float, float]) -> None:
    with pytest.raises(ThresholdError, match="unsure <= spam <= discard"):
        Thresholds(*values)


def test_threshold_error_is_a_value_error_and_a_model_error() -> None:
    with pytest.raises(ValueError) as caught:
        Thresholds(0.9, 0.1, 0.5)
    assert isinstance(caught.value, ModelError)


def test_threshold_error_message_shows_the_values() -> None:
    with pytest.raises(ThresholdError, match=r"0\.9, 0\.1, 0\.5"):
        Thresholds(0.9, 0.1, 0.5)


def test_thresholds_cannot_be_changed_after_creation(thresholds: Thresholds) -> None:
    with pytest.raises(AttributeError):
        thresholds.spam = 0.1  # type: ignore[misc]


# decide


def test_zero_probability_is_ham(thresholds: Thresholds) -> None:
    assert decide(0.0, thresholds) == (Decision.HAM, False)


def test_just_below_unsure_is_ham(thresholds: Thresholds) -> None:
    assert decide(_below(LOW), thresholds) == (Decision.HAM, False)


def test_exactly_unsure_is_unsure(thresholds: Thresholds) -> None:
    assert decide(LOW, thresholds) == (Decision.UNSURE, False)


def test_just_below_spam_is_unsure(thresholds: Thresholds) -> None:
    assert decide(_below(MID), thresholds) == (Decision.UNSURE, False)


def test_exactly_spam_is_spam_kept(thresholds: Thresholds) -> None:
    assert decide(MID, thresholds) == (Decision.SPAM, False)


def test_just_below_discard_is_spam_kept(thresholds: Thresholds) -> None:
    assert decide(_below(HIGH), thresholds) == (Decision.SPAM, False)


def test_exactly_discard_is_spam_discarded(thresholds: Thresholds) -> None:
    assert decide(HIGH, thresholds) == (Decision.SPAM, True)


def test_certain_spam_is_discarded(thresholds: Thresholds) -> None:
    assert decide(1.0, thresholds) == (Decision.SPAM, True)


def test_discard_flag_is_set_only_for_spam() -> None:
    grid = [i / 100 for i in range(101)]
    for unsure, spam, discard in [(0.2, 0.5, 0.5), (0.0, 0.0, 0.0), (0.4, 0.7, 1.0)]:
        limits = Thresholds(unsure, spam, discard)
        for probability in grid:
            decision, discard_it = decide(probability, limits)
            assert not discard_it or decision is Decision.SPAM


def test_equal_unsure_and_spam_leave_no_unsure_band() -> None:
    limits = Thresholds(0.5, 0.5, 0.8)
    assert decide(_below(0.5), limits) == (Decision.HAM, False)
    assert decide(0.5, limits) == (Decision.SPAM, False)


def test_equal_spam_and_discard_discard_every_spam() -> None:
    assert decide(0.7, Thresholds(0.2, 0.7, 0.7)) == (Decision.SPAM, True)


def test_discard_at_one_discards_only_certain_spam() -> None:
    limits = Thresholds(0.2, 0.5, 1.0)
    assert decide(0.999, limits) == (Decision.SPAM, False)
    assert decide(1.0, limits) == (Decision.SPAM, True)


def test_zero_thresholds_call_everything_spam() -> None:
    assert decide(0.0, Thresholds(0.0, 0.0, 1.0)) == (Decision.SPAM, False)


def test_decisions_are_their_akismet_strings() -> None:
    assert [str(d) for d in Decision] == ["ham", "unsure", "spam"]
