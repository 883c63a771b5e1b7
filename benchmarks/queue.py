"""Benchmark the moderation queue page and a bulk action over a large table of checks.

Run: .venv/bin/python -m benchmarks.queue [--checks 100000] [--repeat 20] [--skip-postgres]
Fills a SQLite file and a PostgreSQL database (on 127.0.0.1:5432, dropped afterwards) with
checks made from the seed comments: 70 % via Akismet (explanation deferred, computed when the
page is shown) and 30 % via the JSON API (explanation stored), about 20 % unsure or spam.
Then times, through the test client as a signed-in admin, the queue page with 100 items (cold:
deferred explanations computed; warm: from the process's cache), some filtered pages (warm),
the cost of the 100 explanations alone, and bulk actions on 100 items in one request. PostgreSQL
gets VACUUM ANALYZE after the fill, as autovacuum would. Prints median and p95 in ms.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, insert, select, text

from model import DEFAULT_MODEL_DIR, SpamModel
from service import create_app
from service.checking import explanation_of, model_comment
from service.db import get_session
from service.models import Check, Role, utc_now
from service.moderate import ExplanationCache
from service.settings import Settings
from service.sites import add_site
from service.users import add_user
from training.data import load_dataset

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEED_FILE = PROJECT_ROOT / "training" / "seed" / "seed.jsonl"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "benchmark password"
CHUNK = 5000
# decision, discard, share, probability range: ~20 % of checks wait for a moderator.
MIX = [
    ("ham", False, 0.75, (0.0, 0.27)),
    ("unsure", False, 0.12, (0.28, 0.84)),
    ("spam", False, 0.08, (0.85, 0.97)),
    ("spam", True, 0.05, (0.98, 1.0)),
]


def pool(model: SpamModel) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """The seed comments with Akismet-like fields and their real explanations."""
    rows = []
    for n, example in enumerate(load_dataset([SEED_FILE]).examples):
        fields = {
            "comment_content": "",
            "user_ip": f"203.0.113.{n % 250}",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "permalink": f"https://blog.example/posts/{n % 40}",
            **example.comment,
        }
        explanation = {**model.check(model_comment(fields)).explanation.as_dict(), "rules": []}
        rows.append((fields, explanation))
    return rows


def check_rows(
    count: int, site_ids: list[int], comments: list[tuple[dict[str, str], dict[str, Any]]]
) -> Iterator[list[dict[str, Any]]]:
    """`count` check rows in chunks, spread over 90 days, seeded for repeatable runs."""
    rng = random.Random(0)
    start = time.time()
    now = utc_now()
    chunk: list[dict[str, Any]] = []
    weights = [share for _, _, share, _ in MIX]
    for n in range(count):
        fields, explanation = comments[n % len(comments)]
        decision, discard, _, (low, high) = rng.choices(MIX, weights)[0]
        via = "akismet" if rng.random() < 0.7 else "api"
        created = now - timedelta(seconds=(count - n) * 90 * 86400 / count)
        # Older flagged checks were mostly labelled by the sites already.
        labelled = decision != "ham" and n < count * 0.5 and rng.random() < 0.6
        chunk.append(
            {
                "guid": str(uuid.uuid4()),
                "site_id": site_ids[n % len(site_ids)],
                "created_at": created,
                "via": via,
                "fields": fields,
                "content": fields.get("comment_content", ""),
                "author": fields.get("comment_author", "")[:500],
                "user_ip": fields["user_ip"],
                "probability": rng.uniform(low, high),
                "decision": decision,
                "discard": discard,
                "explanation": {"deferred": True, "rules": []} if via == "akismet" else explanation,
                "model_version": "",  # set by fill()
                "is_test": False,
                "label": "spam" if labelled else None,
                "label_source": "site" if labelled else None,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    print(f"  made rows in {time.time() - start:.1f} s")


def fill(app: Flask, count: int, comments: list[tuple[dict[str, str], dict[str, Any]]]) -> None:
    """Sites, an admin, and `count` checks."""
    started = time.perf_counter()
    with app.app_context():
        session = get_session()
        site_ids = [add_site(session, f"https://site{n}.example").site.id for n in range(3)]
        add_user(session, "admin", PASSWORD, Role.ADMIN)
        version = app.extensions["spamward.models"].get().version
        for chunk in check_rows(count, site_ids, comments):
            for row in chunk:
                row["model_version"] = version
            session.execute(insert(Check), chunk)
            session.commit()
        queued = session.scalar(
            text(
                "SELECT count(*) FROM checks WHERE decision IN ('unsure', 'spam') AND NOT discard "
                "AND label IS NULL AND deleted_at IS NULL"
            )
        )
    print(
        f"  filled {count:,} checks ({queued:,} waiting) in {time.perf_counter() - started:.1f} s"
    )


def timed(repeat: int, action: Callable[[], Any]) -> list[float]:
    """Milliseconds of each of `repeat` runs of `action` after one warm-up run."""
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"  {name:<44} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"csrf_token": token.group(1), "name": "admin", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 302
    return client


def measure(app: Flask, repeat: int) -> None:
    client = signed_in(app)

    def page(query: str = "") -> Callable[[], None]:
        def get() -> None:
            response = client.get(f"/moderate/?{query}")
            assert response.status_code == 200
            assert response.text.count('class="item ') == 100 or query

        return get

    def cold() -> None:
        app.extensions["spamward.explanations"] = ExplanationCache()
        page()()

    # Cold: every deferred explanation on the page is computed (a page seen the first time);
    # warm: they come from the process's cache (the page shown again after an action).
    report("queue page, 100 items, cold", timed(repeat, cold))
    report("queue page, 100 items, warm", timed(repeat, page()))
    report("queue page, decision=spam", timed(repeat, page("decision=spam")))
    report("queue page, page 50", timed(repeat, page("page=50")))
    report("queue page, search q=casino", timed(repeat, page("q=casino")))
    report("queue page, score 0.5-0.9 + site", timed(repeat, page("min=0.5&max=0.9&site=2")))
    with app.app_context():
        session = get_session()
        model = app.extensions["spamward.models"].get()
        checks = list(
            session.scalars(
                select(Check)
                .where(Check.via == "akismet", Check.label.is_(None))
                .order_by(Check.id.desc())
                .limit(100)
            )
        )
        report(
            "100 deferred explanations alone",
            timed(repeat, lambda: [explanation_of(model, c) for c in checks]),
        )
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/moderate/").text)
    assert token
    bulk: list[float] = []
    for _ in range(max(3, repeat // 4)):
        ids = re.findall(r'data-id="(\d+)"', client.get("/moderate/").text)
        form = {"csrf_token": token.group(1), "action": "spam", "check": ids}
        started = time.perf_counter()
        response = client.post("/moderate/decide", data=form)
        bulk.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302
    report("bulk spam on 100 items (one request)", bulk)


def run(url: str, checks: int, repeat: int, comments: Any) -> None:
    settings = Settings(
        database_url=url,
        model_dir=DEFAULT_MODEL_DIR,
        site_cache_seconds=0,
        write_behind=False,
        secret_key="benchmark",
        webhooks=False,  # nothing to send, and no thread outliving the temporary database
        model_poll_seconds=0,
    )
    if url.startswith("postgresql"):
        from service.db import make_engine, upgrade

        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
    app = create_app({"TESTING": True, "SETTINGS": settings})
    try:
        fill(app, checks, comments)
        if url.startswith("postgresql"):
            # What autovacuum does in a running service: statistics and the visibility map
            # (without it no index-only scan can count the queue).
            engine = app.extensions["spamward.engine"]
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE checks"))
        measure(app, repeat)
    finally:
        app.extensions["spamward.engine"].dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"spamward_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    """Fill each database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    comments = pool(SpamModel.load(DEFAULT_MODEL_DIR))
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite, {args.checks:,} checks")
        run(f"sqlite:///{Path(folder) / 'bench.sqlite'}", args.checks, args.repeat, comments)
    if not args.skip_postgres:
        with postgres_database() as url:
            print(f"PostgreSQL, {args.checks:,} checks")
            run(url, args.checks, args.repeat, comments)


if __name__ == "__main__":
    main()
