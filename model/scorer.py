"""The fast path: score one comment with plain dict look-ups instead of the pipeline.

The fitted pipeline is `ColumnTransformer` of `TfidfVectorizer`s followed by a binary
`LogisticRegression`. Its probability is `sigmoid(b + sum_k (x_k . w_k) / ||x_k||)` where `x_k`
is vectorizer k's (sub-linear) term frequencies times idf. Folding idf into the weights ahead of
time leaves, per comment, one analyzer call and a few look-ups per token; the result equals
`predict_proba` up to floating-point summation order.

The per-document loops run in C where model/_sums.pyx is compiled (see `_CompiledLoops`); the
Python loops below give the same numbers and serve any other kind of vectorizer.
"""

from __future__ import annotations

import array
import functools
import itertools
import math
import operator
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from model.features import TEXT_COLUMN, Comment, comment_to_row

try:
    from model import _sums
except ImportError:  # not compiled (run from a source tree): the Python loops give the same sums
    _sums = None  # type: ignore[assignment]

# Whether `logit` runs its inner loop in C (model/_sums.pyx), built by `pip install`.
COMPILED = _sums is not None

# How many features an explanation lists in each direction.
_TOP_DEFAULT = 8
# The decimals an explanation's weights are rounded to.
_PLACES = 4


class Contribution(NamedTuple):
    """One feature's push on the log-odds of spam: positive towards spam, negative towards ham.

    A named tuple, not a frozen dataclass: an explanation makes sixteen of them per check, and a
    frozen dataclass takes several times as long to build.
    """

    feature: str
    weight: float


class Explanation(NamedTuple):
    """Why a comment scored as it did: top tokens and signals in both directions.

    A named tuple, not a frozen dataclass: one is built per explained check, and a frozen
    dataclass's __init__ costs about 6 us against 3.5 with the caches cold, as they are between
    requests under load (a 4 MB sweep of memory between calls).
    """

    tokens: list[Contribution]
    signals: list[Contribution]
    bias: float

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict, weights rounded to 4 decimals."""
        if _sums is not None:
            # The same dicts built in C: the Python comprehensions below (twenty-odd dicts
            # and `round` calls) made as_dict 31.9 us an explanation, against 6.0 with these.
            return {
                "tokens": _sums.contribution_dicts(self.tokens, "token", _PLACES),
                "signals": _sums.contribution_dicts(self.signals, "signal", _PLACES),
                "bias": round(self.bias, _PLACES),
            }
        return {
            "tokens": [
                {"token": c.feature, "weight": round(c.weight, _PLACES)} for c in self.tokens
            ],
            "signals": [
                {"signal": c.feature, "weight": round(c.weight, _PLACES)} for c in self.signals
            ],
            "bias": round(self.bias, _PLACES),
        }


def _unique_counts(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(ids, return_counts=True)` for a non-empty array, without its fixed overhead."""
    ordered = np.sort(ids)
    starts = np.empty(ordered.size, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    return ordered[first], np.diff(first, append=ordered.size)


def _counted(ids: list[int]) -> dict[int, int]:
    """How often each token id occurs."""
    counts: dict[int, int] = {}
    get = counts.get
    for index in ids:
        counts[index] = get(index, 0) + 1
    return counts


# Below this many tokens a plain Python loop beats array operations' fixed cost.
_ARRAY_MIN_TOKENS = 32
# From this many tokens on, an explanation lists a part's tokens in vocabulary order, below it
# in order of first occurrence. Equal weights are common (tokens seen in one training comment
# only) and keep this order in the explanation's top lists, so it must not change.
_VOCABULARY_ORDER_MIN_TOKENS = 160
# Per-occurrence tf shares are looked up for counts below this, computed above it.
_TF_TABLE_SIZE = 4096
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
    # tf(count) / count and tf(count)**2 / count, by count (see _occurrence_shares).
    tf_share_table: np.ndarray
    tf_square_share_table: np.ndarray
    # Per thread, a zeroed count per vocabulary entry to count occurrences in (see below).
    scratch: threading.local = field(default_factory=threading.local, compare=False, repr=False)
    # The compiled loops' tables and word cache, for the kinds of vectorizer they handle.
    compiled: _CompiledLoops | None = None

    def _tf(self, count: int) -> float:
        if self.binary or count == 1:
            return 1.0
        return math.log(count) + 1.0 if self.sublinear_tf else float(count)

    def _tf_array(self, counts: np.ndarray) -> np.ndarray:
        if self.binary:
            return np.ones(counts.shape)
        return np.log(counts) + 1.0 if self.sublinear_tf else counts.astype(np.float64)

    def _occurrence_counts(self, ids: np.ndarray) -> np.ndarray:
        """For each occurrence, how often its token occurs in `ids`.

        Counting into a zeroed per-vocabulary array (and zeroing it again) costs three array
        operations, where sorting for distinct ids costs many more on comment-sized arrays.
        """
        counts: np.ndarray | None = getattr(self.scratch, "counts", None)
        if counts is None:
            counts = self.scratch.counts = np.zeros(len(self.tokens), dtype=np.intp)
        np.add.at(counts, ids, 1)
        try:
            found: np.ndarray = counts[ids]
            return found
        finally:
            counts[ids] = 0

    def _occurrence_shares(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each occurrence's share of its token's tf and squared tf (tf(c) / c, tf(c)**2 / c).

        A token occurring c times contributes tf(c) * weight; spread over its occurrences,
        sums over occurrences need no distinct ids.
        """
        counts = self._occurrence_counts(ids)
        if ids.size < _TF_TABLE_SIZE:  # then every count is inside the tables
            return self.tf_share_table[counts], self.tf_square_share_table[counts]
        tf = self._tf_array(counts)
        share = tf / counts
        return share, share * tf

    def _array_sums(self, ids: np.ndarray) -> tuple[float, float]:
        """The dot product and squared norm by array operations (long documents)."""
        tf_share, square_share = self._occurrence_shares(ids)
        dot = float(tf_share @ self.weight_array[ids])
        return dot, float(square_share @ self.idf_squared_array[ids])

    def _small_sums(self, ids: list[int]) -> tuple[float, float]:
        """The dot product and squared norm in plain Python (the common case, kept tight)."""
        weight, square = self.weights.__getitem__, self.idf_squared.__getitem__
        distinct = set(ids)
        dot, squares = sum(map(weight, distinct)), sum(map(square, distinct))
        if self.binary or len(distinct) == len(ids):  # every tf is 1
            return dot, squares
        # A repeated token's tf is more than the 1 counted above.
        for index, count in _counted(ids).items():
            if count > 1:
                tf = self._tf(count)
                dot += (tf - 1.0) * weight(index)
                squares += (tf * tf - 1.0) * square(index)
        return dot, squares

    def _array_terms(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Distinct token ids, their weighted tf and the norm, by array operations."""
        unique, counts = _unique_counts(ids)
        tf = self._tf_array(counts)
        squares = float((tf * tf) @ self.idf_squared_array[unique])
        return unique, tf * self.weight_array[unique], self._norm(squares)

    def _small_terms(self, ids: list[int]) -> tuple[list[int], list[float], float]:
        """Distinct token ids in order of first occurrence, their weighted tf and the norm."""
        weights, squares_of = self.weights, self.idf_squared
        counts = _counted(ids)
        values: list[float] = []
        append = values.append
        squares = 0.0
        for index, count in counts.items():
            if count == 1 or self.binary:  # tf 1, the common case
                append(weights[index])
                squares += squares_of[index]
            else:
                tf = self._tf(count)
                append(tf * weights[index])
                squares += tf * tf * squares_of[index]
        return list(counts), values, self._norm(squares)

    def _norm(self, squares: float) -> float:
        return math.sqrt(squares) if self.l2_norm else 1.0

    def logit(self, document: str) -> float:
        """Return this vectorizer's part of the log-odds (the hot path, kept tight)."""
        if self.compiled is not None:
            loops = self.compiled
            dot, squares = _sums.sums(*loops, document)
            norm = self._norm(squares)
            return dot / norm if norm else 0.0
        ids = self.token_ids(document)
        if len(ids) >= _ARRAY_MIN_TOKENS:
            dot, squares = self._array_sums(np.asarray(ids))
        else:
            dot, squares = self._small_sums(ids.tolist() if isinstance(ids, np.ndarray) else ids)
        norm = self._norm(squares)
        return dot / norm if norm else 0.0

    def contributions(self, document: str) -> dict[int, float]:
        """Return each known token's contribution to the log-odds, by vocabulary index."""
        if self.compiled is not None:
            indices, values, norm = self._compiled_terms(self.compiled, document)
            return dict(zip(indices, [v / norm for v in values], strict=True)) if norm else {}
        ids = self.token_ids(document)
        if len(ids) >= _VOCABULARY_ORDER_MIN_TOKENS:
            unique, terms, norm = self._array_terms(np.asarray(ids))
            indices, values = unique.tolist(), terms.tolist()
        else:
            listed = ids.tolist() if isinstance(ids, np.ndarray) else ids
            indices, values, norm = self._small_terms(listed)
        if not norm:
            return {}
        return {index: value / norm for index, value in zip(indices, values, strict=True)}

    def word_shares(self, document: str) -> tuple[dict[str, float], float]:
        """Each word's share of this part's log-odds, and the part's log-odds (char n-grams).

        An n-gram's contribution is shared among its occurrences, so words that repeat a
        spammy n-gram split its push; the shares add up to the part's log-odds.
        """
        assert self.word_ids is not None, "word shares need a char n-gram part"
        if self.compiled is not None:
            added: dict[str, float] = {}
            return added, self.add_word_shares(document, added)
        words = document.split()
        arrays = list(map(self.word_ids, words))  # empty for words without a known n-gram
        ids = np.concatenate(arrays) if arrays else _NO_IDS
        if not ids.size:
            return {}, 0.0
        tf_share, square_share = self._occurrence_shares(ids)
        norm = self._norm(float(square_share @ self.idf_squared_array[ids]))
        if not norm:
            return {}, 0.0
        per_occurrence = tf_share * self.weight_array[ids] / norm
        sizes = [len(a) for a in arrays]
        starts = [start for start, size in zip(_starts(sizes), sizes, strict=True) if size]
        nonempty_shares = iter(np.add.reduceat(per_occurrence, starts).tolist())
        # Every word gets its key, in order, even with no share: keys' order breaks ties.
        shares: dict[str, float] = {}
        get = shares.get
        for key, size in zip(map(_share_key, words), sizes, strict=True):
            shares[key] = get(key, 0.0) + (next(nonempty_shares) if size else 0.0)
        return shares, float(per_occurrence.sum())

    def named_contributions(self, document: str) -> dict[str, float]:
        """`named(contributions(document))`, in one step where the loops are compiled."""
        if self.compiled is None:
            return self.named(self.contributions(document))
        named: dict[str, float] = {}
        self.add_named_contributions(document, named)
        return named

    def _compiled_terms(
        self, loops: _CompiledLoops, document: str
    ) -> tuple[list[int], list[float], float]:
        """Distinct token indices, their weighted tf and the norm, from the compiled loops."""
        indices, values, squares = _sums.terms(*loops, document, _VOCABULARY_ORDER_MIN_TOKENS)
        return indices, values, self._norm(squares)

    def add_named_contributions(self, document: str, target: dict[str, float]) -> list[float]:
        """`_add_into(target, named_contributions(document))`; return the contributions, in
        order (in one step where the loops are compiled: no dict in between)."""
        if self.compiled is None:
            contributions = self.named_contributions(document)
            _add_into(target, contributions)
            return list(contributions.values())
        indices, values, norm = self._compiled_terms(self.compiled, document)
        if not norm:
            return []
        return _sums.add_named(indices, values, norm, self.tokens, target)

    def add_word_shares(self, document: str, target: dict[str, float]) -> float:
        """`_add_into(target, shares)` for `shares, logit = word_shares(document)`; return the
        logit (in one step where the loops are compiled)."""
        if self.compiled is None:
            shares, logit = self.word_shares(document)
            _add_into(target, shares)
            return logit
        loops = self.compiled
        return _sums.add_word_shares(
            loops.tables, loops.cache, loops.entry_of, document, self.l2_norm, _share_key, target
        )

    def add_named_logit(self, document: str, target: dict[str, float]) -> float:
        """`sum(add_named_contributions(document, target))`: this part's log-odds, its
        contributions added into `target` (in one step where the loops are compiled, with no
        list of them in between)."""
        loops = self.compiled
        if loops is None:
            return sum(self.add_named_contributions(document, target))
        return _sums.add_terms(
            *loops, document, _VOCABULARY_ORDER_MIN_TOKENS, self.l2_norm, self.tokens, target
        )

    def named(self, contributions: dict[int, float]) -> dict[str, float]:
        """Key contributions by token instead of index."""
        return {self.tokens[i]: c for i, c in contributions.items()}


def _starts(sizes: list[int]) -> list[int]:
    """Where each of consecutive pieces of these sizes starts."""
    return [0, *itertools.accumulate(sizes[:-1])]


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


# scikit-learn's default word pattern and the one the signal columns use. Neither can match
# white space or see past it, so a document's tokens are its white-space words' tokens in turn
# (tests/model/test_scorer.py checks the character classes this rests on).
_RUN_OF_NON_SPACE = r"\S+"
_WORDWISE_TOKEN_PATTERNS = frozenset({r"(?u)\b\w\w+\b", _RUN_OF_NON_SPACE})
# Distinct white-space words whose tokens are kept, per word vectorizer.
_WORD_TOKENS_CACHE_SIZE = 50_000


def _tokens_of(
    token_pattern: str, lowercase: bool, stop_words: frozenset[str] | None
) -> Callable[[str], list[str]]:
    """scikit-learn's tokens of a text: lower-cased, stop words left out."""
    findall = re.compile(token_pattern).findall
    stop = stop_words or frozenset()

    def tokens_of(text: str) -> list[str]:
        found: list[str] = findall(text.lower() if lowercase else text)
        return [t for t in found if t not in stop] if stop else found

    return tokens_of


def _longer_grams(tokens: list[str], low: int, high: int) -> list[str]:
    """The n-grams of `tokens` for n from max(low, 2) to high, in scikit-learn's order."""
    grams: list[str] = []
    if low <= 2 <= high:  # the common size, without slicing
        grams += map(" ".join, itertools.pairwise(tokens))
    for n in range(max(low, 3), min(high, len(tokens)) + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def word_analyzer(
    token_pattern: str,
    ngram_range: tuple[int, int],
    lowercase: bool,
    stop_words: frozenset[str] | None = None,
) -> Callable[[str], list[str]]:
    """Return a faster equivalent of scikit-learn's `word` analyzer (plain settings only).

    Scoring takes the usual token patterns word by word instead (`_wordwise_gram_ids`).
    """
    tokenize = _tokens_of(token_pattern, lowercase, stop_words)
    low, high = ngram_range

    def analyze(document: str) -> list[str]:
        tokens = tokenize(document)
        return (list(tokens) if low == 1 else []) + _longer_grams(tokens, low, high)

    return analyze


def _wordwise_gram_ids(vectorizer: Any) -> Callable[[str], list[int]]:
    """Map a document to its known word n-grams' indices, in the analyzer's order.

    Each white-space word's tokens and their unigram indices are looked up once and kept;
    only the n-grams that span words are looked up per document.
    """
    get = vectorizer.vocabulary_.get
    low, high = vectorizer.ngram_range
    if vectorizer.token_pattern == _RUN_OF_NON_SPACE and not vectorizer.lowercase and high == 1:
        # Signal columns: every white-space word is a token as it stands.
        stop = vectorizer.get_stop_words() or frozenset()
        return lambda document: [
            i for t in document.split() if t not in stop and (i := get(t)) is not None
        ]
    tokens_of = _tokens_of(
        vectorizer.token_pattern, vectorizer.lowercase, vectorizer.get_stop_words()
    )

    @functools.lru_cache(maxsize=_WORD_TOKENS_CACHE_SIZE)
    def word_entry(word: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
        tokens = tokens_of(word)
        unigram_ids = [i for i in map(get, tokens) if i is not None] if low == 1 else []
        return tuple(tokens), tuple(unigram_ids)

    def ids(document: str) -> list[int]:
        tokens: list[str] = []
        found: list[int] = []
        for word_tokens, unigram_ids in map(word_entry, document.split()):
            tokens += word_tokens
            found += unigram_ids
        if high >= 2:
            found += [i for i in map(get, _longer_grams(tokens, low, high)) if i is not None]
        return found

    return ids


def _is_plain(vectorizer: Any) -> bool:
    return bool(
        vectorizer.preprocessor is None
        and vectorizer.strip_accents is None
        and vectorizer.input == "content"
        and vectorizer.decode_error == "strict"
    )


def _is_plain_words(vectorizer: Any) -> bool:
    return bool(
        vectorizer.analyzer == "word" and _is_plain(vectorizer) and vectorizer.tokenizer is None
    )


def _analyzer(vectorizer: Any) -> Callable[[str], list[str]]:
    if vectorizer.analyzer == "char_wb" and _is_plain(vectorizer):
        return char_wb_analyzer(vectorizer.ngram_range, vectorizer.lowercase)
    if _is_plain_words(vectorizer):
        return word_analyzer(
            vectorizer.token_pattern,
            vectorizer.ngram_range,
            vectorizer.lowercase,
            vectorizer.get_stop_words(),
        )
    analyzer: Callable[[str], list[str]] = vectorizer.build_analyzer()
    return analyzer


# Words seen recently, per char vectorizer: most comments reuse common words.
_WORD_CACHE_SIZE = 50_000
_NO_IDS = np.empty(0, dtype=np.intp)


@functools.lru_cache(maxsize=_WORD_CACHE_SIZE)
def _share_key(word: str) -> str:
    """The explanation's name for a word: lower-cased, without surrounding punctuation."""
    return word.lower().strip(".,;:!?\"'()[]{}") or word


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
        arrays = list(map(word_ids, document.split()))
        return np.concatenate(arrays) if arrays else _NO_IDS

    return ids


def _tf_share_tables(vectorizer: Any) -> tuple[np.ndarray, np.ndarray]:
    """tf(c) / c and tf(c)**2 / c for c below _TF_TABLE_SIZE (entry 0 unused)."""
    counts = np.arange(1, _TF_TABLE_SIZE, dtype=np.float64)
    if vectorizer.binary:
        tf = np.ones(counts.shape)
    else:
        tf = np.log(counts) + 1.0 if vectorizer.sublinear_tf else counts
    share = np.concatenate([[0.0], tf / counts])
    return share, np.concatenate([[0.0], tf * tf / counts])


def _compile(
    name: str, vectorizer: Any, column: int, coef: np.ndarray, use_compiled: bool = True
) -> _CompiledVectorizer:
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
    tf_share, tf_square_share = _tf_share_tables(vectorizer)
    if _is_plain_words(vectorizer) and vectorizer.token_pattern in _WORDWISE_TOKEN_PATTERNS:
        token_ids: Callable[[str], TokenIds] = _wordwise_gram_ids(vectorizer)
    else:
        token_ids = _token_ids(analyzer, vocabulary, word_ids if _is_plain(vectorizer) else None)
    return _CompiledVectorizer(
        name=name,
        column=column,
        token_ids=token_ids,
        word_ids=word_ids,
        tokens=tokens,
        weights=weights.tolist(),
        idf_squared=idf_squared.tolist(),
        weight_array=weights,
        idf_squared_array=idf_squared,
        sublinear_tf=bool(vectorizer.sublinear_tf),
        binary=bool(vectorizer.binary),
        l2_norm=vectorizer.norm == "l2",
        tf_share_table=tf_share,
        tf_square_share_table=tf_square_share,
        compiled=_compiled_loops(
            vectorizer, analyzer, weights, idf_squared, (tf_share, tf_square_share)
        )
        if use_compiled
        else None,
    )


# What a compiled part caches per white-space word: its tokens' pair ids (see _pair_table; empty
# without word pairs) and its known unigram indices, both packed as int32.
WordEntry = tuple[bytes, bytes]


def _packed(ids: list[int]) -> bytes:
    return array.array("i", ids).tobytes()


class _CompiledLoops(NamedTuple):
    """What model/_sums.pyx needs for one vectorizer: its tables, word cache and word pairs.

    In the order `sums`, `terms` and `add_terms` take them first: `_sums.sums(*loops, document)`.
    """

    tables: Any  # _sums.PartTables
    cache: dict[str, WordEntry]  # filled by the compiled loops, from entry_of
    entry_of: Callable[[str], WordEntry]
    pairs: Any  # _sums.PairTable | None


def _pair_table(vocabulary: dict[str, int]) -> tuple[dict[str, int], Any]:
    """Pair ids for the tokens of the vocabulary's word pairs ("a b"), and the pairs' table."""
    pair_ids: dict[str, int] = {}
    firsts, seconds, indices = [], [], []
    for gram, index in vocabulary.items():
        first, space, second = gram.partition(" ")
        if space:
            firsts.append(pair_ids.setdefault(first, len(pair_ids)))
            seconds.append(pair_ids.setdefault(second, len(pair_ids)))
            indices.append(index)
    assert _sums is not None
    table = _sums.PairTable(
        np.array(firsts, dtype=np.int32),
        np.array(seconds, dtype=np.int32),
        np.array(indices, dtype=np.int32),
        len(vocabulary),
    )
    return pair_ids, table


def _compiled_loops(
    vectorizer: Any,
    analyzer: Callable[[str], list[str]],
    weights: np.ndarray,
    idf_squared: np.ndarray,
    tf_tables: tuple[np.ndarray, np.ndarray],
) -> _CompiledLoops | None:
    """The compiled loop for the usual kinds of vectorizer; None for any other kind."""
    if _sums is None or len(vectorizer.vocabulary_) >= 2**31:
        return None
    get = vectorizer.vocabulary_.get
    low, high = vectorizer.ngram_range
    pairs = None
    if vectorizer.analyzer == "char_wb" and _is_plain(vectorizer):

        def entry_of(word: str) -> WordEntry:
            # char_wb n-grams never cross a word boundary: a document is the sum of its words.
            return b"", _packed([i for i in map(get, analyzer(word)) if i is not None])

    elif (
        _is_plain_words(vectorizer)
        and vectorizer.token_pattern in _WORDWISE_TOKEN_PATTERNS
        and 1 <= low <= high <= 2
    ):
        tokens_of = _tokens_of(
            vectorizer.token_pattern, vectorizer.lowercase, vectorizer.get_stop_words()
        )
        pair_ids, pairs = _pair_table(vectorizer.vocabulary_) if high == 2 else ({}, None)
        pair_id = pair_ids.get

        def entry_of(word: str) -> WordEntry:
            tokens = tokens_of(word)
            unigrams = [i for i in map(get, tokens) if i is not None] if low == 1 else []
            paired = [pair_id(t, -1) for t in tokens] if pairs is not None else []
            return _packed(paired), _packed(unigrams)

    else:
        return None
    tf_share, tf_square_share = tf_tables
    tables = _sums.PartTables(
        np.ascontiguousarray(weights, dtype=np.float64),
        np.ascontiguousarray(idf_squared, dtype=np.float64),
        tf_share,
        tf_square_share,
        bool(vectorizer.binary),
        bool(vectorizer.sublinear_tf),
        _WORD_CACHE_SIZE,
    )
    return _CompiledLoops(tables, {}, entry_of, pairs)


class FastScorer:
    """Score single comments with the same result as `pipeline.predict_proba`."""

    def __init__(self, pipeline: Any, compiled: bool = True) -> None:
        """Reduce a fitted pipeline; `compiled=False` keeps every loop in Python (for tests)."""
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
            self.parts.append(_compile(name, vectorizer, column, block, compiled))
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
        tokens: dict[str, float] = {}
        signals: dict[str, float] = {}
        for part in self.parts:
            if part.word_ids is not None:
                logit += part.add_word_shares(row[part.column], tokens)
                continue
            target = signals if part.column != TEXT_COLUMN else tokens
            logit += part.add_named_logit(row[part.column], target)
        explanation = Explanation(_top(tokens, top), _top(signals, top), self.bias)
        return _sigmoid(logit), explanation


def _add_into(target: dict[str, float], source: dict[str, float]) -> None:
    if not target:  # the first part's: nothing to add to (0.0 + v is v but for -0.0, never shown)
        target.update(source)
        return
    get = target.get
    for key, value in source.items():
        target[key] = get(key, 0.0) + value


def _top(contributions: dict[str, float], top: int) -> list[Contribution]:
    """Return the `top` strongest pushes towards spam and towards ham, strongest first."""
    if _sums is not None:
        # The same lists in one pass in C, without sorting everything: 4 us for an
        # explanation's two calls on the seed comments, against 11-16 us for the sorts below
        # and the sixteen Python calls that build their named tuples.
        return _sums.top_items(contributions, top, Contribution)
    # Sorting is stable, also reversed: equal weights keep the order they were added in.
    weight = operator.itemgetter(1)
    spam = sorted([i for i in contributions.items() if i[1] > 0], key=weight, reverse=True)[:top]
    ham = sorted([i for i in contributions.items() if i[1] < 0], key=weight)[:top]
    return [Contribution(*item) for item in spam + ham]


def _sigmoid(z: float) -> float:
    # The two branches avoid overflow for large |z|, as scipy's expit does.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
