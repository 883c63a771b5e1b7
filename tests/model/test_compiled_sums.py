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
def test_each_part_gives_the_same_log_odds_and_explanation_both_ways(
    compiled_and_python: tuple[FastScorer, FastScorer],
    seed_sentences: list[str],
    data: st.DataObject,
) -> None:
    compiled, python = compiled_and_python
    row = comment_to_row(data.draw(comments(seed_sentences)))
    for fast, slow in zip(compiled.parts, python.parts, strict=True):
        document = row[fast.column]
        assert fast.logit(document) == pytest.approx(slow.logit(document), abs=1e-12)
        assert fast.named_contributions(document) == pytest.approx(
            slow.named_contributions(document), abs=1e-12
        )
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


def _pairs(*triples: tuple[int, int, int], vocabulary_size: int = 4) -> Any:
    """A pair table of (first pair id, second pair id, index) triples."""
    from model import _sums

    firsts, seconds, indices = (
        np.array(column, dtype=np.int32) for column in zip(*triples, strict=True)
    )
    return _sums.PairTable(firsts, seconds, indices, vocabulary_size)


def _sums_of(entry: object, pairs: Any = None) -> tuple[float, float]:
    """Sums over a four-token vocabulary of a one-word document whose entry is `entry`.

    Every weight, idf squared and tf share is 1: each known occurrence adds 1 to both sums.
    """
    from model import _sums

    tables = _sums.PartTables(np.ones(4), np.ones(4), np.ones(8), np.ones(8), False, True, 9)
    return _sums.sums(tables, {}, lambda word: entry, pairs, "word")  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    "entry",
    [None, ("tokens", b""), ((), b""), (b"",), (b"", b"abc"), (b"abc", b""), [b"", b""]],
)
def test_a_malformed_word_entry_is_a_type_error_not_a_crash(entry: object) -> None:
    with pytest.raises(TypeError, match="must be"):
        _sums_of(entry)


@pytest.mark.parametrize("index", [-1, 4, 2**31 - 1])
def test_an_index_outside_the_vocabulary_is_refused(index: int) -> None:
    with pytest.raises(ValueError, match="outside the vocabulary"):
        _sums_of((b"", scorer._packed([index])))


def test_a_known_pair_of_adjacent_tokens_counts_and_an_unknown_one_does_not() -> None:
    word = (scorer._packed([0, 1, -1, 0]), scorer._packed([0]))  # tokens a b (unpaired) a
    assert _sums_of(word) == (1.0, 1.0)  # the unigram only
    assert _sums_of(word, _pairs((0, 1, 2))) == (2.0, 2.0)  # and the pair "a b"
    assert _sums_of(word, _pairs((1, 0, 2))) == (1.0, 1.0)  # "b a" is not in the document
    # The unpaired token in between breaks adjacency: no pair (1, 0) nor (-1, 0) is formed.
    assert _sums_of(word, _pairs((1, 0, 2), (0, 1, 3))) == (2.0, 2.0)


def test_a_pair_table_refuses_indices_outside_its_vocabulary() -> None:
    with pytest.raises(ValueError, match="outside the vocabulary"):
        _pairs((0, 1, 9))
    with pytest.raises(ValueError, match="past this vocabulary"):
        _sums_of((scorer._packed([0, 1]), b""), _pairs((0, 1, 7), vocabulary_size=8))


def test_the_pair_table_finds_every_pair_of_the_shipped_model() -> None:
    vectorizer = _words_vectorizer()
    pair_ids, table = scorer._pair_table(vectorizer.vocabulary_)
    pairs = [(g, i) for g, i in vectorizer.vocabulary_.items() if " " in g]
    assert pairs
    for gram, index in pairs:
        first, second = gram.split(" ")
        assert table[pair_ids[first], pair_ids[second]] == index
    assert table[len(pair_ids), 0] == -1


def _words_vectorizer() -> Any:
    columns = SpamModel.load(DEFAULT_MODEL_DIR).pipeline.named_steps["features"]
    return next(v for name, v, _ in columns.transformers_ if name == "words")


def _sorted_top(contributions: dict[str, float], top: int) -> list[scorer.Contribution]:
    """The explanation's top lists by sorting, as the Python scorer made them."""
    items = list(contributions.items())
    spam = sorted([i for i in items if i[1] > 0], key=lambda i: i[1], reverse=True)[:top]
    ham = sorted([i for i in items if i[1] < 0], key=lambda i: i[1])[:top]
    return [scorer.Contribution(*item) for item in spam + ham]


# Few distinct weights, so that ties (common in real explanations) are the rule here.
_weights = st.sampled_from([-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, float("nan")]) | st.floats()


@settings(max_examples=300, deadline=None)
@given(
    contributions=st.dictionaries(st.text(max_size=3), _weights, max_size=40),
    top=st.integers(min_value=0, max_value=12),
)
def test_the_compiled_top_lists_equal_sorting_with_ties_in_the_dicts_order(
    contributions: dict[str, float], top: int
) -> None:
    from model import _sums

    found = _sums.top_items(contributions, top, scorer.Contribution)
    assert found == _sorted_top(contributions, top)
    assert all(type(item) is scorer.Contribution for item in found)
    assert [item.feature for item in found] == [key for key, _ in _sorted_top(contributions, top)]


def test_the_compiled_top_lists_need_a_tuple_type() -> None:
    from model import _sums

    with pytest.raises(TypeError, match="tuple type"):
        _sums.top_items({"a": 1.0}, 8, dict)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    already=st.dictionaries(st.sampled_from(["the", "buy", "a", "x"]), st.floats(-2, 2)),
)
def test_adding_a_parts_explanation_in_one_step_is_the_same_as_adding_its_dict(
    compiled_and_python: tuple[FastScorer, FastScorer],
    seed_sentences: list[str],
    data: st.DataObject,
    already: dict[str, float],
) -> None:
    compiled, _ = compiled_and_python
    row = comment_to_row(data.draw(comments(seed_sentences)))
    for part in compiled.parts:
        document = row[part.column]
        # Into an empty target (values as they are) and into a filled one (added to).
        for start in ({}, already):
            target, expected = dict(start), dict(start)
            if part.word_ids is not None:
                shares, expected_logit = part.word_shares(document)
                scorer._add_into(expected, shares)
                assert part.add_word_shares(document, target) == expected_logit
            else:
                contributions = part.named_contributions(document)
                scorer._add_into(expected, contributions)
                added = part.add_named_contributions(document, target)
                assert added == list(contributions.values())
                summed = dict(start)
                assert part.add_named_logit(document, summed) == sum(added)
                assert list(summed.items()) == list(expected.items())
            # Exactly equal, keys in the same order (it breaks ties between equal weights).
            assert list(target.items()) == list(expected.items())


def test_naming_refuses_an_index_outside_the_vocabulary_instead_of_reading_past_it() -> None:
    assert scorer.COMPILED, NOT_BUILT
    from model import _sums

    with pytest.raises(IndexError):
        _sums.add_named([1], [0.5], 1.0, ["only"], {})
    with pytest.raises(IndexError):
        _sums.add_named([-1], [0.5], 1.0, ["only"], {})
    with pytest.raises(ValueError):
        _sums.add_named([0], [], 1.0, ["only"], {})
    words = next(part for part in SpamModel.load(DEFAULT_MODEL_DIR).fast.parts if part.compiled)
    loops = words.compiled
    assert loops is not None
    with pytest.raises(ValueError, match="every token"):
        _sums.add_terms(
            loops.tables, loops.cache, loops.entry_of, loops.pairs, "a", 0, True, ["only"], {}
        )


def _same_float(a: float, b: float) -> bool:
    """Equal to the bit: -0.0 is not 0.0, and NaN is NaN."""
    return repr(a) == repr(b) and type(a) is type(b)


@settings(max_examples=2000, deadline=None)
@given(
    weight=st.floats(allow_nan=True, allow_infinity=True) | st.floats(-50, 50),
    places=st.integers(min_value=0, max_value=8),
)
def test_the_compiled_rounding_equals_pythons_round(weight: float, places: int) -> None:
    from model import _sums

    [item] = _sums.contribution_dicts([("w", weight)], "token", places)
    assert _same_float(item["weight"], round(weight, places))


def test_the_compiled_rounding_equals_pythons_round_at_and_beside_halves() -> None:
    from model import _sums

    # Decimal halves (x.xxxx5) are where a product's rounding error could pick the other side.
    halves = [(k + 0.5) / 10_000 for k in range(-3000, 3000)]
    near = [np.nextafter(h, d) for h in halves for d in (-np.inf, np.inf)]
    weights = [float(w) for w in [*halves, *near, 0.0, -0.0, 1e-300, 5e9, -5e9, 2.5e-5]]
    found = _sums.contribution_dicts([("w", w) for w in weights], "token", 4)
    assert all(
        _same_float(item["weight"], round(w, 4)) for item, w in zip(found, weights, strict=True)
    )


def test_the_compiled_explanation_dicts_equal_the_python_ones(
    compiled_and_python: tuple[FastScorer, FastScorer], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled, _ = compiled_and_python
    comments = [e.comment for e in load_dataset([SEED_FILE]).examples]
    explanations = [compiled.score(comment)[1] for comment in comments]
    in_c = [e.as_dict() for e in explanations]
    monkeypatch.setattr(scorer, "_sums", None)
    assert in_c == [e.as_dict() for e in explanations]
    assert any(d["tokens"] and d["signals"] for d in in_c)


def test_explanation_dicts_refuse_items_that_are_not_pairs_and_round_ints_as_python() -> None:
    from model import _sums

    with pytest.raises(TypeError, match="pair"):
        _sums.contribution_dicts([("w", 1.0, 2.0)], "token", 4)
    with pytest.raises(TypeError, match="pair"):
        _sums.contribution_dicts(["w"], "token", 4)
    with pytest.raises(ValueError, match="places"):
        _sums.contribution_dicts([], "token", 16)
    assert _sums.contribution_dicts([("w", 3)], "signal", 4) == [{"signal": "w", "weight": 3}]
