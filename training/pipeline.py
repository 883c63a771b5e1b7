"""The pipeline's shape and its default parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from model.features import AUTHOR_SIGNAL_COLUMN, CONTENT_SIGNAL_COLUMN, TEXT_COLUMN
from model.vectorizers import WordwiseCharVectorizer

DEFAULT_PARAMS: dict[str, Any] = {
    "word_ngram_range": [1, 2],
    "word_min_df": 1,
    "char_ngram_range": [2, 5],
    "char_min_df": 2,
    "C": 10.0,
    "max_iter": 5000,
    # Spam and ham weigh the same within each source, so that a signal only some sources have
    # (an author name, say) cannot stand in for that source's share of spam.
    "balance_classes_per_source": True,
    # Signals are 0/1 beside l2-normalised TF-IDF blocks; these scales keep them from dominating.
    # Author signals matter most on blog comments (the seed set), content signals least.
    "content_signal_weight": 0.1,
    "author_signal_weight": 0.5,
    "word_weight": 1.0,
    "char_weight": 1.0,
    "char_lowercase": True,
    # Each source's total weight, relative to its size; the seed set is the target domain.
    "source_weights": {"seed": 3.0},
}


def merged_params(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the default parameters with `overrides` applied; unknown names are an error."""
    params = dict(DEFAULT_PARAMS)
    for name, value in (overrides or {}).items():
        if name not in DEFAULT_PARAMS:
            raise ValueError(
                f"unknown training parameter {name!r}; known: {sorted(DEFAULT_PARAMS)}"
            )
        params[name] = value
    return params


# Training-only tokens on rows of the public corpora (see training.train.example_matrix).
CORPUS_TOKENS = ["corpus=youtube", "corpus=sms"]


def _signal_vectorizer(vocabulary: list[str] | None = None) -> TfidfVectorizer:
    """Signals are 0/1 tokens: no idf, no normalisation. Corpus tokens are never signals."""
    return TfidfVectorizer(
        token_pattern=r"\S+",  # noqa: S106 (a regex, not a password)
        lowercase=False,
        binary=True,
        use_idf=False,
        norm=None,
        dtype=np.float64,
        vocabulary=vocabulary,
        stop_words=None if vocabulary else CORPUS_TOKENS,
    )


def build_pipeline(params: dict[str, Any]) -> Pipeline:
    """Build the unfitted pipeline: word and char TF-IDF of the text, binary signals, then LR."""
    words = TfidfVectorizer(
        ngram_range=tuple(params["word_ngram_range"]),
        min_df=params["word_min_df"],
        sublinear_tf=True,
        dtype=np.float64,
    )
    # The same TF-IDF as scikit-learn's char_wb, counted word by word (several times faster).
    chars = WordwiseCharVectorizer(
        analyzer="char_wb",
        lowercase=params["char_lowercase"],
        ngram_range=tuple(params["char_ngram_range"]),
        min_df=params["char_min_df"],
        sublinear_tf=True,
        dtype=np.float64,
    )
    features = ColumnTransformer(
        [
            ("words", words, TEXT_COLUMN),
            ("chars", chars, TEXT_COLUMN),
            ("content_signals", _signal_vectorizer(), CONTENT_SIGNAL_COLUMN),
            ("author_signals", _signal_vectorizer(), AUTHOR_SIGNAL_COLUMN),
            ("corpus", _signal_vectorizer(CORPUS_TOKENS), CONTENT_SIGNAL_COLUMN),
        ],
        sparse_threshold=1.0,
        transformer_weights={
            "words": params["word_weight"],
            "chars": params["char_weight"],
            "content_signals": params["content_signal_weight"],
            "author_signals": params["author_signal_weight"],
            # Large, so that the penalty barely holds back each corpus's own offset.
            "corpus": 10.0,
        },
    )
    classifier = LogisticRegression(C=params["C"], max_iter=params["max_iter"])
    return Pipeline([("features", features), ("classifier", classifier)])
