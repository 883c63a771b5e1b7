"""A frozen copy of model/scorer.py before its speed-up: the reference the new one must match.

Do not edit: tests/model/test_scorer.py checks that FastScorer gives the same probabilities and
explanations as this copy. What follows is the original module's text.

The fast path: score one comment with plain dict look-ups instead of the pipeline.

The fitted pipeline is `ColumnTransformer` of `TfidfVectorizer`s followed by a binary
`LogisticRegression`. Its probability is `sigmoid(b + sum_k (x_k . w_k) / ||x_k||)` where `x_k`
is vectorizer k's (sub-linear) term frequencies times idf. Folding idf into the weights ahead of
time leaves, per comment, one analyzer call and a few look-ups per token; the result equals
`predict_proba` up to floating-point summation order.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
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


def _unique_counts(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(ids, return_counts=True)` for a non-empty array, without its fixed overhead."""
    ordered = np.sort(ids)
    starts = np.empty(ordered.size, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    return ordered[first], np.diff(first, append=ordered.size)


def _counted(ids: TokenIds) -> Counter[int]:
    """How often each token id occurs (as plain ints, whatever form the ids came in)."""
    return Counter(ids.tolist() if isinstance(ids, np.ndarray) else ids)


# Below this many tokens a plain Python loop beats array operations' fixed cost.
_ARRAY_MIN_TOKENS = 160
TokenIds = list[int] | np.ndarray


@dataclass(frozen=True)
class _CompiledVectorizer:
    """One fitted vectorizer reduced to what scoring needs.

    Long token lists (a comment's char n-grams) are scored with array operations, short ones
    (its words, its signals) with plain Python, which is faster at that size.
    """

    name: str
    column: int
    # The vocabulary indices of a document's known tokens, one per occurrence.
    token_ids: Callable[[str], TokenIds]
    # For char n-grams: the indices of one word's known n-grams (cached).
    word_ids: Callable[[str], np.ndarray] | None
    tokens: list[str]
    weights: list[float]  # idf * coefficient
    idf_squared: list[float]
    weight_array: np.ndarray
    idf_squared_array: np.ndarray
    sublinear_tf: bool
    binary: bool
    l2_norm: bool

    def _tf(self, count: int) -> float:
        if self.binary or count == 1:
            return 1.0
        return math.log(count) + 1.0 if self.sublinear_tf else float(count)

    def _tf_array(self, counts: np.ndarray) -> np.ndarray:
        if self.binary:
            return np.ones(counts.shape)
        return np.log(counts) + 1.0 if self.sublinear_tf else counts.astype(np.float64)

    def _array_terms(self, ids: TokenIds) -> tuple[np.ndarray, np.ndarray, float]:
        """Distinct token ids, their weighted tf and the norm, by array operations."""
        unique, counts = _unique_counts(np.asarray(ids))
        tf = self._tf_array(counts)
        squares = float((tf * tf) @ self.idf_squared_array[unique])
        return unique, tf * self.weight_array[unique], self._norm(squares)

    def _small_terms(self, ids: TokenIds) -> tuple[list[int], list[float], float]:
        """Distinct token ids, their weighted tf and the norm, in plain Python."""
        weights, squares_of = self.weights, self.idf_squared
        indices: list[int] = []
        values: list[float] = []
        squares = 0.0
        for index, count in _counted(ids).items():
            tf = self._tf(count)
            indices.append(index)
            values.append(tf * weights[index])
            squares += tf * tf * squares_of[index]
        return indices, values, self._norm(squares)

    def _small_logit(self, ids: TokenIds) -> tuple[float, float]:
        """The dot product and squared norm in plain Python (the common case, kept tight)."""
        weights, squares_of = self.weights, self.idf_squared
        ones = self.binary
        dot = squares = 0.0
        for index, count in _counted(ids).items():
            if count == 1 or ones:
                dot += weights[index]
                squares += squares_of[index]
            else:
                tf = self._tf(count)
                dot += tf * weights[index]
                squares += tf * tf * squares_of[index]
        return dot, squares

    def _norm(self, squares: float) -> float:
        return math.sqrt(squares) if self.l2_norm else 1.0

    def logit(self, document: str) -> float:
        """Return this vectorizer's part of the log-odds (the hot path, kept tight)."""
        ids = self.token_ids(document)
        if len(ids) >= _ARRAY_MIN_TOKENS:
            _, terms, norm = self._array_terms(ids)
            dot = float(terms.sum())
        else:
            dot, squares = self._small_logit(ids)
            norm = self._norm(squares)
        return dot / norm if norm else 0.0

    def contributions(self, document: str) -> dict[int, float]:
        """Return each known token's contribution to the log-odds, by vocabulary index."""
        ids = self.token_ids(document)
        if len(ids) >= _ARRAY_MIN_TOKENS:
            unique, terms, norm = self._array_terms(ids)
            indices, values = unique.tolist(), terms.tolist()
        else:
            indices, values, norm = self._small_terms(ids)
        if not norm:
            return {}
        return {index: value / norm for index, value in zip(indices, values, strict=True)}

    def word_shares(self, document: str) -> tuple[dict[str, float], float]:
        """Each word's share of this part's log-odds, and the part's log-odds (char n-grams).

        An n-gram's contribution is shared among its occurrences, so words that repeat a
        spammy n-gram split its push; the shares add up to the part's log-odds.
        """
        assert self.word_ids is not None, "word shares need a char n-gram part"
        words = document.split()
        arrays = [self.word_ids(w) for w in words]
        ids = np.concatenate(arrays) if arrays else _NO_IDS
        if not ids.size:
            return {}, 0.0
        unique, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
        tf = self._tf_array(counts)
        norm = self._norm(float((tf * tf) @ self.idf_squared_array[unique]))
        if not norm:
            return {}, 0.0
        contributions = tf * self.weight_array[unique] / norm
        per_occurrence = (contributions / counts)[inverse]
        owner = np.repeat(np.arange(len(words)), [len(a) for a in arrays])
        per_word = np.bincount(owner, weights=per_occurrence, minlength=len(words))
        shares: dict[str, float] = defaultdict(float)
        for word, share in zip(words, per_word.tolist(), strict=True):
            shares[word.lower().strip(".,;:!?\"'()[]{}") or word] += share
        return dict(shares), float(contributions.sum())

    def named(self, contributions: dict[int, float]) -> dict[str, float]:
        """Key contributions by token instead of index."""
        return {self.tokens[i]: c for i, c in contributions.items()}


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


def word_analyzer(
    token_pattern: str, ngram_range: tuple[int, int], lowercase: bool
) -> Callable[[str], list[str]]:
    """Return a faster equivalent of scikit-learn's `word` analyzer (plain settings only)."""
    tokenize = re.compile(token_pattern).findall
    low, high = ngram_range

    def analyze(document: str) -> list[str]:
        words: list[str] = tokenize(document.lower() if lowercase else document)
        grams = list(words) if low == 1 else []
        for n in range(max(low, 2), min(high, len(words)) + 1):
            grams += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        return grams

    return analyze


def _is_plain(vectorizer: Any) -> bool:
    return bool(
        vectorizer.preprocessor is None
        and vectorizer.strip_accents is None
        and vectorizer.input == "content"
        and vectorizer.decode_error == "strict"
    )


def _is_plain_words(vectorizer: Any) -> bool:
    return bool(
        vectorizer.analyzer == "word"
        and _is_plain(vectorizer)
        and vectorizer.tokenizer is None
        and vectorizer.stop_words is None
    )


def _analyzer(vectorizer: Any) -> Callable[[str], list[str]]:
    if vectorizer.analyzer == "char_wb" and _is_plain(vectorizer):
        return char_wb_analyzer(vectorizer.ngram_range, vectorizer.lowercase)
    if _is_plain_words(vectorizer):
        return word_analyzer(vectorizer.token_pattern, vectorizer.ngram_range, vectorizer.lowercase)
    analyzer: Callable[[str], list[str]] = vectorizer.build_analyzer()
    return analyzer


# Words seen recently, per char vectorizer: most comments reuse common words.
_WORD_CACHE_SIZE = 50_000
_NO_IDS = np.empty(0, dtype=np.intp)


def _word_ids(
    analyzer: Callable[[str], list[str]], vocabulary: dict[str, int]
) -> Callable[[str], np.ndarray]:
    """Map one word to the indices of its known char n-grams, caching recent words."""
    get = vocabulary.get

    @functools.lru_cache(maxsize=_WORD_CACHE_SIZE)
    def word_ids(word: str) -> np.ndarray:
        found = [i for i in map(get, analyzer(word)) if i is not None]
        return np.array(found, dtype=np.intp) if found else _NO_IDS

    return word_ids


def _token_ids(
    analyzer: Callable[[str], list[str]],
    vocabulary: dict[str, int],
    word_ids: Callable[[str], np.ndarray] | None,
) -> Callable[[str], TokenIds]:
    """Map a document to the vocabulary indices of its known tokens."""
    if word_ids is None:
        get = vocabulary.get

        return lambda document: [i for i in map(get, analyzer(document)) if i is not None]

    def ids(document: str) -> np.ndarray:
        # char_wb n-grams never cross a word boundary, so a document is the sum of its words.
        words = document.split()
        return np.concatenate([word_ids(w) for w in words]) if words else _NO_IDS

    return ids


def _compile(name: str, vectorizer: Any, column: int, coef: np.ndarray) -> _CompiledVectorizer:
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    if vectorizer.norm not in ("l2", None):
        raise ValueError(f"fast path supports norm 'l2' or None, not {vectorizer.norm!r}")
    idf = [float(v) for v in vectorizer.idf_] if vectorizer.use_idf else [1.0] * len(vocabulary)
    tokens = [""] * len(vocabulary)
    for token, index in vocabulary.items():
        tokens[index] = token
    weights = np.array(idf) * np.asarray(coef, dtype=np.float64)
    idf_squared = np.array(idf) ** 2
    analyzer = _analyzer(vectorizer)
    char_wb = vectorizer.analyzer == "char_wb"
    word_ids = _word_ids(analyzer, vocabulary) if char_wb else None
    return _CompiledVectorizer(
        name=name,
        column=column,
        token_ids=_token_ids(analyzer, vocabulary, word_ids if _is_plain(vectorizer) else None),
        word_ids=word_ids,
        tokens=tokens,
        weights=weights.tolist(),
        idf_squared=idf_squared.tolist(),
        weight_array=weights,
        idf_squared_array=idf_squared,
        sublinear_tf=bool(vectorizer.sublinear_tf),
        binary=bool(vectorizer.binary),
        l2_norm=vectorizer.norm == "l2",
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
            if name == "remainder" or vectorizer == "drop":
                continue
            width = len(vectorizer.vocabulary_)
            # A transformer weight scales that block's features, so it scales their weights.
            block = coef[offset : offset + width] * scales.get(name, 1.0)
            self.parts.append(_compile(name, vectorizer, column, block))
            offset += width
        if offset != coef.shape[0]:
            raise ValueError(f"feature widths add to {offset}, classifier has {coef.shape[0]}")

    def probability(self, comment: Comment) -> float:
        """Return the spam probability of one comment."""
        row = comment_to_row(comment)
        return _sigmoid(self.bias + sum(part.logit(row[part.column]) for part in self.parts))

    def score(self, comment: Comment, top: int = _TOP_DEFAULT) -> tuple[float, Explanation]:
        """Return the spam probability of one comment and why."""
        row = comment_to_row(comment)
        logit = self.bias
        tokens: dict[str, float] = defaultdict(float)
        signals: dict[str, float] = defaultdict(float)
        for part in self.parts:
            if part.word_ids is not None:
                shares, part_logit = part.word_shares(row[part.column])
                logit += part_logit
                _add_into(tokens, shares)
                continue
            contributions = part.contributions(row[part.column])
            logit += sum(contributions.values())
            _add_into(signals if part.column != TEXT_COLUMN else tokens, part.named(contributions))
        explanation = Explanation(_top(tokens, top), _top(signals, top), self.bias)
        return _sigmoid(logit), explanation


def _add_into(target: dict[str, float], source: dict[str, float]) -> None:
    for key, value in source.items():
        target[key] += value


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
