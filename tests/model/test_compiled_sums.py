"""The compiled inner loop (model/_sums.pyx) gives the same log-odds as the Python loops."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import DEFAULT_MODEL_DIR, SpamModel, scorer
from model.features import comment_to_row
from model.scorer import FastScorer
from tests.factories import make_comments
from tests.model.strategies import comments
from training.data import load_dataset

SEED_FILE = Path(__file__).resolve().parents[2] / "training" / "seed" / "seed.jsonl"
NOT_BUILT = "model/_sums.pyx is not compiled: run `make setup` (pip install -e .)"


@pytest.fixture(scope="module")
def compiled_and_python() -> tuple[FastScorer, FastScorer]:
    assert scorer.COMPILED, NOT_BUILT
    pipeline = SpamModel.load(DEFAULT_MODEL_DIR).pipeline
    return FastScorer(pipeline), FastScorer(pipeline, compiled=False)


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    texts = [e.comment.get("comment_content", "") for e in load_dataset([SEED_FILE]).examples]
    return [f"{s} " for t in texts for s in t.split(". ") if s]


def test_installing_the_package_compiles_the_inner_loop() -> None:
    # Without it the service still answers the same, only slower: that must not go unseen.
    assert scorer.COMPILED, NOT_BUILT


def test_the_shipped_models_parts_all_take_the_compiled_loop(
    compiled_and_python: tuple[FastScorer, FastScorer],
) -> None:
    compiled, python = compiled_and_python
    assert all(part.compiled is not None for part in compiled.parts)
    assert all(part.compiled is None for part in python.parts)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_each_part_gives_the_same_log_odds_both_ways(
    compiled_and_python: tuple[FastScorer, FastScorer],
    seed_sentences: list[str],
    data: st.DataObject,
) -> None:
    compiled, python = compiled_and_python
    row = comment_to_row(data.draw(comments(seed_sentences)))
    for fast, slow in zip(compiled.parts, python.parts, strict=True):
        document = row[fast.column]
        assert fast.logit(document) == pytest.approx(slow.logit(document), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_each_part_explains_the_same_both_ways(
    compiled_and_python: tuple[FastScorer, FastScorer],
    seed_sentences: list[str],
    data: st.DataObject,
) -> None:
    compiled, python = compiled_and_python
    row = comment_to_row(data.draw(comments(seed_sentences)))
    for fast, slow in zip(compiled.parts, python.parts, strict=True):
        document = row[fast.column]
        shares: dict[Any, float]
        expected: dict[Any, float]
        if fast.word_ids is not None:
            (shares, total), (expected, expected_total) = (
                fast.word_shares(document),
                slow.word_shares(document),
            )
        else:
            shares, expected = fast.contributions(document), slow.contributions(document)
            total, expected_total = sum(shares.values()), sum(expected.values())
        # The same keys in the same order (it breaks ties between equal weights).
        assert list(shares) == list(expected)
        assert list(shares.values()) == pytest.approx(list(expected.values()), abs=1e-12)
        assert total == pytest.approx(expected_total, abs=1e-12)


def test_a_token_repeated_past_the_tf_table_is_scored_like_the_python_loop(
    compiled_and_python: tuple[FastScorer, FastScorer],
) -> None:
    compiled, python = compiled_and_python
    comment = {"comment_content": "free money " * 5000}
    assert compiled.probability(comment) == pytest.approx(python.probability(comment), abs=1e-12)


def test_threads_scoring_at_once_get_what_one_thread_gets(
    compiled_and_python: tuple[FastScorer, FastScorer],
) -> None:
    # The loop counts into one shared array per part: it must be back to zero after each call.
    compiled, _ = compiled_and_python
    batch = [comment for comment, _ in make_comments(300, seed=5)]
    expected = [compiled.probability(c) for c in batch]
    results: dict[int, list[float]] = {}

    def score(worker: int) -> None:
        results[worker] = [compiled.probability(c) for c in batch]

    threads = [threading.Thread(target=score, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n] == expected for n in range(4))


def test_the_word_cache_is_emptied_when_full_and_scores_stay_the_same(
    compiled_and_python: tuple[FastScorer, FastScorer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scorer, "_WORD_CACHE_SIZE", 3)
    small = FastScorer(SpamModel.load(DEFAULT_MODEL_DIR).pipeline)
    _, python = compiled_and_python
    comment = {"comment_content": "one two three four five six seven eight nine ten"}
    assert small.probability(comment) == pytest.approx(python.probability(comment), abs=1e-12)
    chars = next(part for part in small.parts if part.word_ids is not None)
    assert chars.compiled is not None
    # Three words fill it: emptied before "four", "seven" and "ten".
    assert list(chars.compiled.cache) == ["ten"]


def _sums_of(entry: object, pairs: dict[str, int] | None = None) -> tuple[float, float]:
    """Sums over a four-token vocabulary of a one-word document whose entry is `entry`."""
    from model import _sums

    tables = _sums.PartTables(
        np.ones(4),
        np.ones(4),
        np.zeros(8),
        np.zeros(8),
        False,
        True,
        9,
    )
    return _sums.sums(tables, {}, lambda word: entry, pairs, "word")  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    "entry",
    [None, ("tokens", b""), ((), "not bytes"), ((),), ((), b"abc"), ((1,), b""), [(), b""]],
)
def test_a_malformed_word_entry_is_a_type_error_not_a_crash(entry: object) -> None:
    with pytest.raises(TypeError, match="must be"):
        _sums_of(entry)


@pytest.mark.parametrize("index", [-1, 4, 2**31 - 1])
def test_an_index_outside_the_vocabulary_is_refused(index: int) -> None:
    with pytest.raises(ValueError, match="outside the vocabulary"):
        _sums_of(((), scorer._packed([index])))


def test_known_pairs_count_and_a_pair_index_outside_the_vocabulary_is_refused() -> None:
    # Weights are all 1 and the tf table is empty (0): a counted token adds tf(1) share 0.
    assert _sums_of((("a", "b"), scorer._packed([0])), pairs={"a b": 1}) == (0.0, 0.0)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        _sums_of((("a", "b"), b""), pairs={"a b": 9})
