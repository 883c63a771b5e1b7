"""The fast path gives the pipeline's probability, and explains it."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import DEFAULT_MODEL_DIR, Decision, SpamModel, Thresholds
from model.features import comments_to_matrix
from model.scorer import FastScorer, char_wb_analyzer, word_analyzer
from tests.factories import make_comments
from tests.model import reference_scorer
from tests.model.strategies import comment_texts, comments
from training.data import load_dataset

SEED_FILE = Path(__file__).resolve().parents[2] / "training" / "seed" / "seed.jsonl"


def test_fast_path_equals_predict_proba_on_a_thousand_comments(tiny_model: SpamModel) -> None:
    comments = [comment for comment, _ in make_comments(1000, seed=7)]
    batch = tiny_model.pipeline.predict_proba(comments_to_matrix(comments))[:, 1]
    fast = [tiny_model.fast.probability(c) for c in comments]
    assert max(abs(a - b) for a, b in zip(batch, fast, strict=True)) < 1e-9


@pytest.mark.parametrize(
    "comment",
    [
        {},
        {"comment_content": ""},
        {"comment_content": "zzzzqqqq unseen words only"},
        {"comment_content": "x" * 5000},
        {"comment_content": "  \ufeff  ", "comment_author": "\u200b"},
        {
            "comment_content": "Ünïcödé \ufb01ne \uff57\uff49\uff44\uff45 текст 中文",
            "comment_type": "pingback",
        },
    ],
)
def test_fast_path_equals_predict_proba_on_odd_comments(
    tiny_model: SpamModel, comment: dict[str, str]
) -> None:
    expected = tiny_model.pipeline.predict_proba(comments_to_matrix([comment]))[0, 1]
    assert tiny_model.fast.probability(comment) == pytest.approx(expected, abs=1e-9)


def test_score_and_probability_agree(tiny_model: SpamModel) -> None:
    for comment, _ in make_comments(50, seed=3):
        probability, _ = tiny_model.fast.score(comment)
        assert probability == pytest.approx(tiny_model.fast.probability(comment), abs=1e-12)


def test_the_explanation_adds_up_to_the_log_odds(tiny_model: SpamModel) -> None:
    comment = {"comment_content": "Buy cheap viagra online now", "comment_author": "Cheap Meds"}
    probability, explanation = tiny_model.fast.score(comment, top=10_000)
    total = explanation.bias + sum(c.weight for c in explanation.tokens + explanation.signals)
    assert 1 / (1 + math.exp(-total)) == pytest.approx(probability, abs=1e-9)


def test_the_explanation_lists_pushes_both_ways_strongest_first(tiny_model: SpamModel) -> None:
    comment = {
        "comment_content": "Thanks for the recipe! Buy cheap viagra at http://meds.example.shop",
        "comment_author": "Anna",
    }
    _, explanation = tiny_model.fast.score(comment, top=3)
    spam = [c.weight for c in explanation.tokens if c.weight > 0]
    ham = [c.weight for c in explanation.tokens if c.weight < 0]
    assert spam and ham
    assert len(spam) <= 3 and len(ham) <= 3
    assert spam == sorted(spam, reverse=True)
    assert ham == sorted(ham)


def test_explanation_tokens_are_words_of_the_comment(tiny_model: SpamModel) -> None:
    comment = {"comment_content": "Casino bonus: claim your free spins today"}
    _, explanation = tiny_model.fast.score(comment)
    words = {w.strip(":").lower() for w in comment["comment_content"].split()}
    for contribution in explanation.tokens:
        assert set(contribution.feature.split()) <= words


def test_check_decides_with_the_given_thresholds(tiny_model: SpamModel) -> None:
    comment = {"comment_content": "Best casino bonus, free spins http://casino.example.win"}
    probability = tiny_model.fast.probability(comment)
    always_spam = Thresholds(0.0, 0.0, 1.0)
    never_spam = Thresholds(1.0, 1.0, 1.0)
    assert tiny_model.check(comment, always_spam).decision is Decision.SPAM
    assert tiny_model.check(comment, never_spam).decision is (
        Decision.SPAM if probability >= 1.0 else Decision.HAM
    )


def test_the_verdict_names_the_model_version(tiny_model: SpamModel) -> None:
    verdict = tiny_model.check({"comment_content": "hello"})
    assert verdict.model_version == tiny_model.card.version
    assert verdict.as_dict()["model_version"] == tiny_model.card.version


def test_spam_scores_above_ham_on_the_fixture_comments(tiny_model: SpamModel) -> None:
    pairs = make_comments(200, seed=11)
    scores = tiny_model.probabilities([c for c, _ in pairs])
    spam = [s for s, (_, label) in zip(scores, pairs, strict=True) if label == 1]
    ham = [s for s, (_, label) in zip(scores, pairs, strict=True) if label == 0]
    assert sum(spam) / len(spam) > 0.5 > sum(ham) / len(ham)


def test_batch_scoring_of_nothing_is_nothing(tiny_model: SpamModel) -> None:
    assert tiny_model.probabilities([]) == []


@pytest.mark.parametrize(
    "text", ["", "a", "ab cd", "hello   world\n\tagain", "ÀÉÎ ünï", "x" * 40, "!! ?? ..."]
)
@pytest.mark.parametrize("ngram_range", [(1, 1), (2, 5), (3, 6)])
@pytest.mark.parametrize("lowercase", [True, False])
def test_fast_char_wb_analyzer_matches_scikit_learn(
    text: str, ngram_range: tuple[int, int], lowercase: bool
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    reference = TfidfVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, lowercase=lowercase
    ).build_analyzer()
    assert char_wb_analyzer(ngram_range, lowercase)(text) == reference(text)


# The word part tokenises white-space word by white-space word (and caches each word). That
# gives scikit-learn's tokens only because of these facts about white space, checked on every
# code point: str.split() and the regex `\s` agree, no white space is a word character, and
# lower-casing neither makes nor moves white space.
EVERY_CHARACTER = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
WHITE_SPACE = [c for c in EVERY_CHARACTER if c.isspace()]


def test_str_split_and_the_regex_agree_on_white_space() -> None:
    space = re.compile(r"\s")
    assert [c for c in EVERY_CHARACTER if c.isspace() != bool(space.fullmatch(c))] == []


def test_no_white_space_is_a_word_character() -> None:
    word = re.compile(r"\w")
    assert [c for c in WHITE_SPACE if word.fullmatch(c)] == []


def test_lower_casing_neither_makes_nor_changes_white_space() -> None:
    assert [c for c in WHITE_SPACE if c.lower() != c] == []
    made = [c for c in EVERY_CHARACTER if not c.isspace() and any(x.isspace() for x in c.lower())]
    assert made == []


@pytest.mark.parametrize("space", WHITE_SPACE)
def test_final_sigma_does_not_look_past_white_space(space: str) -> None:
    # Lower-casing depends on context only for capital sigma (final or not).
    for words in (["ΑΣ", "Β"], ["Α", "Σ"], ["ΑΣ", "'Β"], ["Α'", "Σ"], ["Σ", "Σ"]):  # noqa: RUF001
        assert space.join(words).lower().split() == [w.lower() for w in words]


WORD_SETTINGS = [
    {"token_pattern": r"(?u)\b\w\w+\b", "ngram_range": (1, 2), "lowercase": True},
    {"token_pattern": r"(?u)\b\w\w+\b", "ngram_range": (1, 1), "lowercase": False},
    {"token_pattern": r"(?u)\b\w\w+\b", "ngram_range": (2, 3), "lowercase": True},
    {"token_pattern": r"\S+", "ngram_range": (1, 1), "lowercase": False},
    {"token_pattern": r"\S+", "ngram_range": (1, 3), "lowercase": True},
    {"token_pattern": r"(?u)\b\w+\b", "ngram_range": (1, 2), "lowercase": True},
]


@pytest.mark.parametrize("settings", WORD_SETTINGS)
@pytest.mark.parametrize("stop_words", [None, ["the", "ab", "links=1", "σς"]])
@settings(max_examples=150, deadline=None)
@given(text=comment_texts())
def test_fast_word_analyzer_matches_scikit_learn(
    settings: dict[str, Any], stop_words: list[str] | None, text: str
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    reference = TfidfVectorizer(analyzer="word", stop_words=stop_words, **settings)
    fast = word_analyzer(**settings, stop_words=reference.get_stop_words())
    assert fast(text) == reference.build_analyzer()(text)


@pytest.fixture(scope="module")
def shipped_and_reference() -> tuple[FastScorer, reference_scorer.FastScorer]:
    pipeline = SpamModel.load(DEFAULT_MODEL_DIR).pipeline
    return FastScorer(pipeline), reference_scorer.FastScorer(pipeline)


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    """The seed comments' texts, split at full stops: real words the shipped model knows."""
    examples = load_dataset([SEED_FILE]).examples
    texts = [e.comment.get("comment_content", "") for e in examples]
    return [f"{s} " for t in texts for s in t.split(". ") if s]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_shipped_model_scores_and_explains_as_before(
    shipped_and_reference: tuple[FastScorer, reference_scorer.FastScorer],
    seed_sentences: list[str],
    data: st.DataObject,
) -> None:
    fast, reference = shipped_and_reference
    comment = data.draw(comments(seed_sentences))
    assert fast.probability(comment) == pytest.approx(reference.probability(comment), abs=1e-12)
    for top in (3, 10_000):
        probability, explanation = fast.score(comment, top)
        expected_probability, expected = reference.score(comment, top)
        assert probability == pytest.approx(expected_probability, abs=1e-12)
        _assert_same_contributions(explanation.tokens, expected.tokens)
        _assert_same_contributions(explanation.signals, expected.signals)
        assert explanation.bias == expected.bias


def _assert_same_contributions(actual: list[Any], expected: list[Any]) -> None:
    """The same features in the same order, their weights equal up to float summation order.

    Rounding both to a number of digits is not enough: a weight a hair from a rounding edge
    rounds apart (1.686586624855 as ...485 and ...486, found by Hypothesis).
    """
    assert [c.feature for c in actual] == [c.feature for c in expected]
    weights = [c.weight for c in expected]
    assert [c.weight for c in actual] == pytest.approx(weights, rel=1e-12, abs=1e-12)
