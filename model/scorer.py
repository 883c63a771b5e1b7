"""The fast path: score one comment with plain dict look-ups instead of the pipeline.

The fitted pipeline is `ColumnTransformer` of `TfidfVectorizer`s followed by a binary
`LogisticRegression`. Its probability is `sigmoid(b + sum_k (x_k . w_k) / ||x_k||)` where `x_k`
is vectorizer k's (sub-linear) term frequencies times idf. Folding idf into the weights ahead of
time leaves, per comment, one analyzer call and a few look-ups per token; the result equals
`predict_proba` up to floating-point summation order.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.features import TEXT_COLUMN, Comment, comment_to_row

# How many features an explanation lists in each direction.
_TOP_DEFAULT = 8


@dataclass(frozen=True)
class Contribution:
    """One feature's push on the log-odds of spam: positive towards spam, negative towards ham."""

    feature: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    """Why a comment scored as it did: top tokens and signals in both directions."""

    tokens: list[Contribution]
    signals: list[Contribution]
    bias: float

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "tokens": [{"token": c.feature, "weight": round(c.weight, 4)} for c in self.tokens],
            "signals": [{"signal": c.feature, "weight": round(c.weight, 4)} for c in self.signals],
            "bias": round(self.bias, 4),
        }


@dataclass(frozen=True)
class _CompiledVectorizer:
    """One fitted vectorizer reduced to what scoring needs."""

    name: str
    column: int
    analyzer: Callable[[str], list[str]]
    # token -> (idf, idf * coefficient, idf squared)
    table: dict[str, tuple[float, float, float]]
    sublinear_tf: bool
    binary: bool
    l2_norm: bool
    char_wb: bool

    def _tf(self, count: int) -> float:
        if self.binary:
            return 1.0
        return math.log(count) + 1.0 if self.sublinear_tf else float(count)

    def logit(self, document: str) -> float:
        """Return this vectorizer's part of the log-odds (the hot path, kept tight)."""
        get = self.table.get
        ones = self.binary
        dot = 0.0
        squares = 0.0
        for token, count in Counter(self.analyzer(document)).items():
            entry = get(token)
            if entry is None:
                continue
            if count == 1 or ones:
                dot += entry[1]
                squares += entry[2]
            else:
                tf = self._tf(count)
                dot += tf * entry[1]
                squares += tf * tf * entry[2]
        if not self.l2_norm:
            return dot
        return dot / math.sqrt(squares) if squares else 0.0

    def contributions(self, document: str) -> dict[str, float]:
        """Return each known token's contribution to the log-odds."""
        counts = Counter(self.analyzer(document))
        values = {
            token: (self._tf(count) * self.table[token][0], self._tf(count) * self.table[token][1])
            for token, count in counts.items()
            if token in self.table
        }
        norm = math.sqrt(sum(v * v for v, _ in values.values())) if self.l2_norm else 1.0
        if norm == 0.0:
            return {}
        return {token: w / norm for token, (_, w) in values.items()}


def char_wb_analyzer(ngram_range: tuple[int, int], lowercase: bool) -> Callable[[str], list[str]]:
    """Return a faster equivalent of scikit-learn's `char_wb` analyzer (plain settings only).

    Each white-space separated word is padded with one space either side; a word no longer
    than n yields itself once for that n and for every larger n.
    """
    low, high = ngram_range

    def analyze(document: str) -> list[str]:
        grams: list[str] = []
        extend = grams.extend
        for word in (document.lower() if lowercase else document).split():
            padded = f" {word} "
            size = len(padded)
            for n in range(low, high + 1):
                if size <= n:
                    grams.append(padded)
                    break
                extend([padded[i : i + n] for i in range(size - n + 1)])
        return grams

    return analyze


def _analyzer(vectorizer: Any) -> Callable[[str], list[str]]:
    plain = (
        vectorizer.preprocessor is None
        and vectorizer.strip_accents is None
        and vectorizer.input == "content"
        and vectorizer.decode_error == "strict"
    )
    if vectorizer.analyzer == "char_wb" and plain:
        return char_wb_analyzer(vectorizer.ngram_range, vectorizer.lowercase)
    analyzer: Callable[[str], list[str]] = vectorizer.build_analyzer()
    return analyzer


def _compile(name: str, vectorizer: Any, column: int, coef: np.ndarray) -> _CompiledVectorizer:
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    if vectorizer.use_idf:
        idf = vectorizer.idf_
        table = {
            t: (float(idf[i]), float(idf[i] * coef[i]), float(idf[i]) ** 2)
            for t, i in vocabulary.items()
        }
    else:
        table = {t: (1.0, float(coef[i]), 1.0) for t, i in vocabulary.items()}
    if vectorizer.norm not in ("l2", None):
        raise ValueError(f"fast path supports norm 'l2' or None, not {vectorizer.norm!r}")
    return _CompiledVectorizer(
        name=name,
        column=column,
        analyzer=_analyzer(vectorizer),
        table=table,
        sublinear_tf=bool(vectorizer.sublinear_tf),
        binary=bool(vectorizer.binary),
        l2_norm=vectorizer.norm == "l2",
        char_wb=vectorizer.analyzer == "char_wb",
    )


class FastScorer:
    """Score single comments with the same result as `pipeline.predict_proba`."""

    def __init__(self, pipeline: Any) -> None:
        columns = pipeline.named_steps["features"]
        classifier = pipeline.named_steps["classifier"]
        if classifier.coef_.shape[0] != 1:
            raise ValueError("fast path supports a binary classifier only")
        coef = classifier.coef_[0]
        self.bias = float(classifier.intercept_[0])
        self.parts: list[_CompiledVectorizer] = []
        scales = columns.transformer_weights or {}
        offset = 0
        for name, vectorizer, column in columns.transformers_:
            if name == "remainder":
                continue
            width = len(vectorizer.vocabulary_)
            # A transformer weight scales that block's features, so it scales their weights.
            block = coef[offset : offset + width] * scales.get(name, 1.0)
            self.parts.append(_compile(name, vectorizer, column, block))
            offset += width
        if offset != coef.shape[0]:
            raise ValueError(f"feature widths add to {offset}, classifier has {coef.shape[0]}")

    def _contributions(self, row: Sequence[str]) -> list[dict[str, float]]:
        return [part.contributions(row[part.column]) for part in self.parts]

    def probability(self, comment: Comment) -> float:
        """Return the spam probability of one comment."""
        row = comment_to_row(comment)
        return _sigmoid(self.bias + sum(part.logit(row[part.column]) for part in self.parts))

    def score(self, comment: Comment, top: int = _TOP_DEFAULT) -> tuple[float, Explanation]:
        """Return the spam probability of one comment and why."""
        row = comment_to_row(comment)
        parts = self._contributions(row)
        logit = self.bias + sum(sum(c.values()) for c in parts)
        tokens: dict[str, float] = defaultdict(float)
        signals: dict[str, float] = defaultdict(float)
        for part, contributions in zip(self.parts, parts, strict=True):
            if part.column != TEXT_COLUMN:
                _add_into(signals, contributions)
            elif part.char_wb:
                _add_into(tokens, _spread_over_words(part, row[part.column], contributions))
            else:
                _add_into(tokens, contributions)
        explanation = Explanation(_top(tokens, top), _top(signals, top), self.bias)
        return _sigmoid(logit), explanation


def _add_into(target: dict[str, float], source: dict[str, float]) -> None:
    for key, value in source.items():
        target[key] += value


def _spread_over_words(
    part: _CompiledVectorizer, document: str, contributions: dict[str, float]
) -> dict[str, float]:
    """Share each char n-gram's contribution among the words it occurs in, by occurrence."""
    words = document.split()
    grams_per_word = [part.analyzer(w) for w in words]
    occurrences = Counter(g for grams in grams_per_word for g in grams)
    shares: dict[str, float] = defaultdict(float)
    for word, grams in zip(words, grams_per_word, strict=True):
        key = word.lower().strip(".,;:!?\"'()[]{}")
        shares[key or word] += sum(contributions.get(g, 0.0) / occurrences[g] for g in grams)
    return dict(shares)


def _top(contributions: dict[str, float], top: int) -> list[Contribution]:
    """Return the `top` strongest pushes towards spam and towards ham, strongest first."""
    items = [(k, v) for k, v in contributions.items() if v != 0.0]
    spam = sorted((i for i in items if i[1] > 0), key=lambda i: -i[1])[:top]
    ham = sorted((i for i in items if i[1] < 0), key=lambda i: i[1])[:top]
    return [Contribution(k, v) for k, v in spam + ham]


def _sigmoid(z: float) -> float:
    # The two branches avoid overflow for large |z|, as scipy's expit does.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
