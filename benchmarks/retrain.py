"""Benchmark the retraining loop: does it learn a new kind of spam, and how long does it take?

Run: .venv/bin/python -m benchmarks.retrain [--labels 600] [--bulk 100000] [--skip-bulk]
                                            [--rate 200] [--window 10]

1. The loop learns: a fresh service (temporary SQLite, the shipped model) stores `--labels`
   comments of a kind the shipped model has not seen ("recovery" scams, with ham on the same
   subject), a moderator labels each, and `spamward retrain`'s code runs on the base corpora
   plus those labels. Held-out comments of the same kind (other names, amounts, handles) are
   scored by the shipped model and by the challenger: spam caught at the same blocked-ham rate.
2. Scale: `--bulk` more labelled checks are inserted and `spamward retrain` is timed on a
   quiet machine. Then the service is started on the same database and sent comment-checks
   at `--rate` per second (or, with `--rate 0`, by wrk as fast as it answers) while idle and
   while `spamward retrain` runs again; each window's figures are printed as it ends.
Prints figures; asserts nothing. Needs the public corpora beside the project (../shared/data).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from benchmarks.new_kind import comments as new_kind_comments
from benchmarks.service import Run, _bodies, _free_port, _script, _start, _stop, _wrk
from model import DEFAULT_MODEL_DIR, SpamModel
from model.features import comments_to_matrix
from service import create_app
from service.db import get_session
from service.models import Check, Label, LabelSource, utc_now
from service.registry import champion, load_version
from service.retraining import run_retrain
from service.settings import Settings
from service.sites import add_site
from training.metrics import decision_metrics, threshold_for_blocked_ham

HELD_OUT_SEED = 999
BLOCKED_HAM_RATE = 0.005


Labelled = list[tuple[dict[str, str], int]]


def _held_out_figures(model: SpamModel, held_out: Labelled) -> dict[str, Any]:
    labels = np.array([label for _, label in held_out])
    scores = model.pipeline.predict_proba(comments_to_matrix([c for c, _ in held_out]))[:, 1]
    at_rate = threshold_for_blocked_ham(labels, scores, BLOCKED_HAM_RATE)
    own = decision_metrics(labels, scores, model.card.thresholds.spam)
    same_rate = decision_metrics(labels, scores, at_rate)
    return {
        "model": model.version,
        "spam_caught_at_its_spam_threshold": own["spam_caught"],
        "blocked_ham_at_its_spam_threshold": own["blocked_ham"],
        f"spam_caught_at_{BLOCKED_HAM_RATE:.1%}_blocked_ham": same_rate["spam_caught"],
    }


def _store_labelled(app: Any, site_id: int, labelled: Labelled) -> None:
    """Store checks already labelled by a moderator, as the queue would leave them."""
    now = utc_now()
    rows = []
    for index, (comment, label) in enumerate(labelled):
        rows.append(
            {
                "guid": f"bench-{random.getrandbits(64):016x}-{index}",
                "site_id": site_id,
                "created_at": now,
                "via": "api",
                "fields": comment,
                "content": comment.get("comment_content", ""),
                "author": comment.get("comment_author", ""),
                "user_ip": comment.get("user_ip", ""),
                "probability": 0.5,
                "decision": "unsure",
                "discard": False,
                "explanation": {"deferred": True, "rules": []},
                "model_version": "bench",
                "is_test": False,
                "label": (Label.SPAM if label else Label.HAM).value,
                "label_source": LabelSource.MODERATOR.value,
                "labelled_at": now,
                "labelled_by": "bench-moderator",
            }
        )
    with app.app_context():
        session = get_session()
        for start in range(0, len(rows), 5000):
            session.execute(insert(Check), rows[start : start + 5000])
        session.commit()


def _bulk_comments(count: int) -> Labelled:
    """Labelled checks for the scale run: the seed set's comments, varied so none repeat."""
    seed_file = Path(__file__).resolve().parents[1] / "training" / "seed" / "seed.jsonl"
    seed = [json.loads(line) for line in seed_file.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(5)
    made = []
    for index in range(count):
        row = seed[index % len(seed)]
        comment = {k: str(v) for k, v in row.items() if k.startswith("comment_") and v}
        comment["comment_content"] += f" ({rng.randrange(10**6)})"
        made.append((comment, 1 if row["label"] == "spam" else 0))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=600)
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--window", type=int, default=10, help="seconds per load window")
    parser.add_argument(
        "--rate", type=int, default=200, help="checks/s while retraining; 0: as fast as wrk can"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="spamward-bench-retrain-"))
    settings = Settings(
        database_url=f"sqlite:///{folder / 'spamward.sqlite'}",
        model_dir=DEFAULT_MODEL_DIR,
        model_poll_seconds=0,
        write_behind=False,
    )
    app = create_app({"SETTINGS": settings})
    with app.app_context():
        new_site = add_site(get_session(), "https://news.example", "News")
        site_id, key = new_site.site.id, new_site.key
    held_out = new_kind_comments(400, HELD_OUT_SEED)
    shipped = SpamModel.load(DEFAULT_MODEL_DIR)
    before = _held_out_figures(shipped, held_out)
    _store_labelled(app, site_id, new_kind_comments(args.labels, seed=1))
    started = time.perf_counter()
    with app.app_context():
        result = run_retrain(get_session(), DEFAULT_MODEL_DIR, folder / "reports", margin=0.01)
        live = champion(get_session())
        assert live is not None
        challenger = load_version(live) if result["promoted"] else None
    seconds = time.perf_counter() - started
    print(f"1. the loop learns ({args.labels} moderator labels of a new kind of spam)")
    print(f"   retraining took {seconds:.0f} s; gate passed: {result['gate']['passed']}")
    for reason in result["gate"]["reasons"]:
        print(f"     {reason}")
    print(f"   held-out new-kind comments ({len(held_out)}, half spam):")
    print(f"     before (shipped): {json.dumps(before)}")
    if challenger is None:
        print("   the challenger was not promoted")
    else:
        print(f"     after (challenger): {json.dumps(_held_out_figures(challenger, held_out))}")
    if args.skip_bulk:
        return
    _store_labelled(app, site_id, _bulk_comments(args.bulk))
    app.extensions["spamward.engine"].dispose()
    total = args.bulk + args.labels
    print(f"2. retraining on the base corpora plus {total} labelled checks, service under load")
    _retrain_under_load(settings.database_url, key, folder, args.window, args.rate)


def _retrain_under_load(database_url: str, key: str, folder: Path, window: int, rate: int) -> None:
    """Time `spamward retrain` quiet, then again while comment-checks keep coming.

    With `rate`, checks are sent at that steady rate (a busy site); with 0, wrk sends as fast
    as the service answers (16 connections), which leaves the niced retraining little CPU.
    """
    env = {"SPAMWARD_DATABASE_URL": database_url}
    seconds, code, output = _timed_retrain(env, folder, lambda: None)
    print(f"   quiet: retraining took {seconds:.0f} s (goal: under 300 s), exit {code}")
    print("   " + "\n   ".join(output.strip().splitlines()[-3:]), flush=True)
    port = _free_port()
    server = _start("service:create_app()", env, port)
    form, _ = _bodies(folder, key, "https://news.example")
    url = f"http://127.0.0.1:{port}"
    if rate:
        bodies = form.read_bytes().splitlines()
        load = f"{rate} checks/s sent steadily"

        def measure(name: str) -> Run:
            return _paced(name, url + "/1.1/comment-check", bodies, rate, window)

    else:
        script = _script(
            folder,
            "akismet",
            form,
            "/1.1/comment-check",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        load = "wrk, 16 connections, as fast as answered"

        def measure(name: str) -> Run:
            return _wrk(name, url, script, window, 16)

    windows = 0

    def drive() -> None:
        nonlocal windows
        windows += 1
        _say(f"while retraining, window {windows}", measure("busy"))

    try:
        print(f"   load: {load}; {window} s windows")
        _say("idle", measure("idle"))
        seconds, code, output = _timed_retrain(env, folder, drive)
    finally:
        _stop(server)
    print(f"   under load: retraining took {seconds:.0f} s (goal: under 300 s), exit {code}")
    print("   " + "\n   ".join(output.strip().splitlines()[-3:]))


def _say(name: str, run: Run) -> None:
    print(
        f"   {name}: {run.rps:.0f} req/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, "
        f"{run.errors} errors",
        flush=True,
    )


def _paced(name: str, url: str, bodies: list[bytes], rate: int, seconds: int) -> Run:
    """Send comment-checks at `rate` per second for `seconds`, from enough threads.

    Latency counts from when each request was due, so a stalled service cannot hide its
    backlog (no coordinated omission).
    """
    total = rate * seconds
    start = time.monotonic() + 0.05
    due_times = iter(start + i / rate for i in range(total))
    taking = threading.Lock()
    latencies: list[float] = []
    errors = 0

    def send(body: bytes) -> bool:
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status == 200 and response.read() in (b"true", b"false")
        except OSError:
            return False

    def worker() -> None:
        nonlocal errors
        while True:
            with taking:
                due = next(due_times, None)
                index = len(latencies) + errors
            if due is None:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            ok = send(bodies[index % len(bodies)])
            with taking:
                latencies.append((time.monotonic() - due) * 1000)
                errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    p50, p99 = np.percentile(latencies, [50, 99])
    return Run(name, total, total / elapsed, float(p50), float(p99), errors)


def _timed_retrain(
    env: dict[str, str], folder: Path, meanwhile: Callable[[], None]
) -> tuple[float, int, str]:
    """Run `spamward retrain --no-promote`, calling `meanwhile` until it ends."""
    command = [str(Path(sys.executable).with_name("spamward")), "retrain", "--no-promote"]
    command += ["--reports", str(folder / "reports")]
    started = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as log:
        retraining = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=Path(__file__).resolve().parents[1],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        while retraining.poll() is None:
            meanwhile()
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        log.seek(0)
        return seconds, retraining.returncode, log.read()


if __name__ == "__main__":
    main()
