"""Benchmark the classifier: fast path vs pipeline, batch throughput, training time, protocols.

Run: .venv/bin/python -m benchmarks.classifier [--corpora ../shared/data] [--skip-protocols]
Prints figures; asserts nothing (the unit tests check correctness, this measures speed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from model import DEFAULT_MODEL_DIR, SpamModel
from model.features import Comment, comments_to_matrix
from training import evaluate
from training.data import load_dataset
from training.train import train

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEED_FILE = PROJECT_ROOT / "training" / "seed" / "seed.jsonl"


def _per_call_us(
    function: Callable[[Comment], object], comments: Sequence[Comment], rounds: int
) -> float:
    """Fastest over rounds of the mean microseconds per call (the least disturbed round)."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for comment in comments:
            function(comment)
        samples.append((time.perf_counter() - started) / len(comments) * 1e6)
    return min(samples)


def bench_single(model: SpamModel, comments: Sequence[Comment], label: str) -> None:
    """Print fast path and pipeline microseconds per comment, their ratio and the largest gap."""

    def pipeline_one(comment: Comment) -> float:
        return float(model.pipeline.predict_proba(comments_to_matrix([comment]))[0, 1])

    fast = _per_call_us(model.fast.probability, comments, rounds=5)
    slow = _per_call_us(pipeline_one, comments[:300], rounds=3)
    gap = max(abs(model.fast.probability(c) - pipeline_one(c)) for c in comments[:1000])
    mean_len = statistics.mean(len(c.get("comment_content", "")) for c in comments)
    print(
        f"single comment [{label}, {len(comments)} comments, mean {mean_len:.0f} chars]: "
        f"fast path {fast:.0f} us, predict_proba {slow:.0f} us, ratio {slow / fast:.1f}x, "
        f"largest difference {gap:.1e}"
    )
    started = time.perf_counter()
    for comment in comments[:300]:
        model.check(comment)
    explained = (time.perf_counter() - started) / 300 * 1e6
    print(f"  with explanation (model.check): {explained:.0f} us per comment")


def bench_batch(model: SpamModel, comments: Sequence[Comment]) -> None:
    """Print batch throughput for 10,000 comments through the pipeline."""
    batch = (list(comments) * (10_000 // len(comments) + 1))[:10_000]
    started = time.perf_counter()
    model.probabilities(batch)
    seconds = time.perf_counter() - started
    print(f"batch: 10,000 comments in {seconds:.2f} s = {10_000 / seconds:,.0f} comments/s")


def bench_training(corpora: Path) -> None:
    """Print the time to train the default model from its sources."""
    started = time.perf_counter()
    dataset = load_dataset([corpora / "youtube_spam", corpora / "sms_spam", SEED_FILE])
    train(dataset)
    print(
        f"training the default model (5-fold validation + final fit): "
        f"{time.perf_counter() - started:.1f} s on {os.cpu_count()} cores"
    )


def bench_protocols(corpora: Path) -> None:
    """Print the TubeSpam and SMS protocol figures."""
    result, _ = evaluate.tubespam(corpora / "youtube_spam")
    for name, video in result["videos"].items():
        print(
            f"tubespam {name:10s} MCC {video['mcc']:.3f} (published best "
            f"{video['published_best_mcc']:.3f}, LR {video['published_lr_mcc']:.3f})"
        )
    print(f"tubespam mean MCC {result['mean_mcc']:.3f} (published best mean 0.904)")
    for seed in range(5):
        sms, _ = evaluate.sms(corpora / "sms_spam", seed=seed)
        test = sms["test"]
        print(
            f"sms seed {seed}: SC {test['spam_caught']:.2%} BH {test['blocked_ham']:.2%} "
            f"accuracy {test['accuracy']:.2%} MCC {test['mcc']:.3f}"
        )


def main() -> None:
    """Run every benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    default = os.environ.get("SPAMWARD_CORPORA") or str(PROJECT_ROOT.parent / "shared" / "data")
    parser.add_argument("--corpora", type=Path, default=Path(default))
    parser.add_argument("--skip-protocols", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    model = SpamModel.load(DEFAULT_MODEL_DIR)
    seed = [e.comment for e in load_dataset([SEED_FILE]).examples]
    public = [
        e.comment
        for e in load_dataset([args.corpora / "youtube_spam", args.corpora / "sms_spam"]).examples
    ]
    bench_single(model, seed, "seed blog comments")
    bench_single(model, public[:2000], "YouTube + SMS")
    bench_batch(model, seed + public[:2000])
    if not args.skip_training:
        bench_training(args.corpora)
    if not args.skip_protocols:
        bench_protocols(args.corpora)


if __name__ == "__main__":
    main()
