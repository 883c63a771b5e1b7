"""The word-by-word char_wb vectorizer gives exactly what scikit-learn's own gives."""

from __future__ import annotations

import pickle
import random
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from model.vectorizers import WordwiseCharVectorizer

WORDS = ["Free", "free", "iPhone", "a", "ok", "CLICK", "héllo", "ÀÉÎ", "x" * 30, "!!", "naïve"]
SPACES = [" ", "  ", "\n", "\t", "\u00a0", "\u2003"]


def documents(count: int, seed: int) -> list[str]:
    """Texts of known and rare words, odd white space, and some empty documents."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        size = rng.randrange(0, 12)
        parts = [rng.choice([*WORDS, f"w{rng.randrange(50)}"]) for _ in range(size)]
        made.append("".join(part + rng.choice(SPACES) for part in parts))
    return made


def both(**settings: Any) -> tuple[TfidfVectorizer, WordwiseCharVectorizer]:
    settings = {"analyzer": "char_wb", "dtype": np.float64, **settings}
    return TfidfVectorizer(**settings), WordwiseCharVectorizer(**settings)


def assert_same_fit(reference: TfidfVectorizer, wordwise: WordwiseCharVectorizer) -> None:
    assert wordwise.vocabulary_ == reference.vocabulary_
    if reference.use_idf:
        assert np.array_equal(wordwise.idf_, reference.idf_)


@pytest.mark.parametrize(
    "settings",
    [
        {"ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True},
        {"ngram_range": (1, 3), "lowercase": False},
        {"ngram_range": (3, 6), "binary": True, "norm": None, "use_idf": False},
        {"ngram_range": (2, 4), "min_df": 3, "max_df": 0.5},
    ],
)
def test_fitting_gives_the_same_vocabulary_idf_and_matrix_as_scikit_learn(
    settings: dict[str, Any],
) -> None:
    texts = documents(400, seed=1)
    reference, wordwise = both(**settings)
    expected = reference.fit_transform(texts)
    found = wordwise.fit_transform(texts)
    assert_same_fit(reference, wordwise)
    assert (found != expected).nnz == 0


def test_transforming_new_texts_ignores_unseen_n_grams_as_scikit_learn_does() -> None:
    reference, wordwise = both(ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    reference.fit(documents(300, seed=2))
    wordwise.fit(documents(300, seed=2))
    unseen = [*documents(100, seed=3), "zzzq qqqz", ""]
    assert (wordwise.transform(unseen) != reference.transform(unseen)).nnz == 0


def test_a_fitted_wordwise_vectorizer_survives_pickling() -> None:
    _, wordwise = both(ngram_range=(2, 5))
    texts = documents(50, seed=4)
    expected = wordwise.fit(texts).transform(texts)
    restored = pickle.loads(pickle.dumps(wordwise))
    assert (restored.transform(texts) != expected).nnz == 0


def test_texts_of_only_white_space_are_refused_like_scikit_learn_refuses_them() -> None:
    reference, wordwise = both()
    with pytest.raises(ValueError, match="empty vocabulary"):
        reference.fit(["   ", "\n"])
    with pytest.raises(ValueError, match="empty vocabulary"):
        wordwise.fit(["   ", "\n"])


def test_a_preprocessor_falls_back_to_scikit_learns_own_counting() -> None:
    def shout(text: str) -> str:
        return text.upper()

    reference, wordwise = both(ngram_range=(2, 3), preprocessor=shout)
    texts = documents(100, seed=5)
    assert (wordwise.fit_transform(texts) != reference.fit_transform(texts)).nnz == 0
    assert_same_fit(reference, wordwise)
    assert all(term == term.upper() for term in wordwise.vocabulary_)


def test_bytes_documents_are_decoded_as_scikit_learn_decodes_them() -> None:
    reference, wordwise = both(ngram_range=(2, 4))
    texts = [text.encode("utf-8") for text in documents(60, seed=6)]
    assert (wordwise.fit_transform(texts) != reference.fit_transform(texts)).nnz == 0
    assert_same_fit(reference, wordwise)
