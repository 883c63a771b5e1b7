"""Benchmark the per-comment fast path piece by piece on the seed blog comments.

Run: .venv/bin/python -m benchmarks.scoring [--rounds 7]
Prints the fastest round's mean microseconds per comment (the least disturbed round) for
`probability`, `score`, `comment_to_row` and its parts, and each vectorizer's `logit`.
Asserts nothing: the unit tests check correctness, this measures speed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from model import DEFAULT_MODEL_DIR, SpamModel
from model.features import author_signals, comment_to_row, content_signals
from model.text import normalise_text
from training.data import load_dataset

SEED_FILE = Path(__file__).resolve().parents[1] / "training" / "seed" / "seed.jsonl"


def per_call_us(function: Callable[[Any], object], inputs: Sequence[Any], rounds: int) -> float:
    """Fastest over rounds of the mean microseconds per call."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for value in inputs:
            function(value)
        samples.append((time.perf_counter() - started) / len(inputs) * 1e6)
    return min(samples)


def main() -> None:
    """Time each piece of the fast path and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    model = SpamModel.load(DEFAULT_MODEL_DIR)
    comments = [e.comment for e in load_dataset([SEED_FILE]).examples]
    texts = [normalise_text(c.get("comment_content", "") or "") for c in comments]
    rows = [comment_to_row(c) for c in comments]
    timed: list[tuple[str, Callable[[Any], object], Sequence[Any]]] = [
        ("probability", model.fast.probability, comments),
        ("score", model.fast.score, comments),
        ("comment_to_row", comment_to_row, comments),
        ("  normalise_text", normalise_text, [c.get("comment_content", "") for c in comments]),
        ("  content_signals", content_signals, texts),
        ("  author_signals", author_signals, comments),
    ]
    for part in model.fast.parts:
        documents = [row[part.column] for row in rows]
        timed.append((f"logit {part.name}", part.logit, documents))
    print(f"{len(comments)} seed comments, best of {args.rounds} rounds, us per comment:")
    for label, function, inputs in timed:
        print(f"{label:20s} {per_call_us(function, inputs, args.rounds):7.1f}")


if __name__ == "__main__":
    main()
