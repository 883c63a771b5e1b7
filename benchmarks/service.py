"""Benchmark the service under gunicorn with wrk: bare Flask vs the check endpoints.

Run: .venv/bin/python -m benchmarks.service [--seconds 15] [--rounds 3] [--connections 16]
     [--skip-postgres]
Needs wrk (`apt-get install wrk`) and, for the PostgreSQL rows, the server on 127.0.0.1:5432.
Prints req/s, p50 and p99 per endpoint, the ratios to a bare endpoint run just before on the same
requests, the service's CPU time per request, errors, and whether the number of stored checks
equals the number answered.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from model.scorer import COMPILED
from service.admin_cli import default_workers
from service.models import Check
from training.data import load_dataset

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEED_FILE = PROJECT_ROOT / "training" / "seed" / "seed.jsonl"
WARMUP_SECONDS = 2
# The JSON check without the explanation in its answer (stored with it deferred).
UNEXPLAINED_PATH = "/api/v1/check?explain=false"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LUA = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%(path)s", {%(headers)s}, bodies[i])
end
"""


@dataclass
class Run:
    """One wrk run's figures."""

    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    stored: int | None = None
    answered: int | None = None
    # CPU the service's processes (gunicorn and its workers) spent per request answered.
    cpu_ms: float | None = None
    # The bare endpoint's run just before this one, on the same requests (check endpoints).
    bare: Run | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(
    app: str, env: dict[str, str], port: int, access_log: Path | None = None
) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    logging = ["--access-logfile", str(access_log)] if access_log else []
    process = subprocess.Popen(
        [
            gunicorn,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(default_workers()),
            "--config",
            "python:service.gunicorn_conf",
            *logging,
            app,
        ],
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return process
        except OSError as exc:
            if isinstance(exc, urllib.error.HTTPError):
                return process  # the bare app has no /healthz: a 404 means it is up
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start on port {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process and its children still running (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(k) for k in children.read_text().split()] if children.exists() else []
    for process in [pid, *kids]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _wrk_on(
    process: subprocess.Popen[bytes], name: str, port: int, script: Path, seconds: int, conn: int
) -> Run:
    """A wrk run against a started service, with the service's CPU per request.

    A short unmeasured run goes first: gunicorn answers once one worker is up, while the others
    may still be loading the model, and each worker fills its caches (sites, words) on its
    first requests. The measured run is the service's steady state, for bare Flask as well.
    """
    _wrk(f"{name} warm-up", f"http://127.0.0.1:{port}", script, WARMUP_SECONDS, conn)
    before = _cpu_seconds(process.pid)
    run = _wrk(name, f"http://127.0.0.1:{port}", script, seconds, conn)
    run.cpu_ms = (_cpu_seconds(process.pid) - before) * 1000 / max(run.requests, 1)
    return run


def _millis(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[match.group(2)]
    return float(match.group(1)) * scale


def _wrk(name: str, url: str, script: Path, seconds: int, connections: int) -> Run:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50_match = re.search(r"\n\s+50%\s+(\S+)", out)
    p99_match = re.search(r"\n\s+99%\s+(\S+)", out)
    if p50_match is None or p99_match is None:
        print(out, file=sys.stderr)
        return Run(name, requests, rps, float("nan"), float("nan"), requests or 1)
    p50, p99 = _millis(p50_match.group(1)), _millis(p99_match.group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Run(name, requests, rps, p50, p99, errors)


def _bodies(folder: Path, key: str, blog: str) -> tuple[Path, Path]:
    """Form bodies for comment-check and JSON bodies for /api/v1/check, one per line."""
    folder.mkdir(parents=True, exist_ok=True)
    comments = [e.comment for e in load_dataset([SEED_FILE]).examples]
    form, api = folder / "form.txt", folder / "json.txt"
    with form.open("w") as f, api.open("w") as j:
        for comment in comments:
            fields = {**comment, "user_ip": comment.get("user_ip", "192.0.2.1")}
            f.write(urllib.parse.urlencode({"api_key": key, "blog": blog, **fields}) + "\n")
            j.write(json.dumps(fields) + "\n")
    return form, api


def _script(folder: Path, name: str, bodies: Path, path: str, headers: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lua = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    script = folder / f"{name}.lua"
    script.write_text(LUA % {"bodies": bodies, "path": path, "headers": lua})
    return script


def _count_checks(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).select_from(Check)).scalar_one())
    engine.dispose()
    return count


def _prepare(database_url: str) -> tuple[str, str]:
    """Migrate, add a site, return (key, url)."""
    from service import create_app
    from service.db import get_session, upgrade
    from service.sites import add_site

    env_backup = os.environ.get("SPAMWARD_DATABASE_URL")
    os.environ["SPAMWARD_DATABASE_URL"] = database_url
    # Migrated first: the app reads the model registry as it starts.
    engine = create_engine(database_url)
    upgrade(engine)
    engine.dispose()
    try:
        app = create_app(deliver_webhooks=False)
        with app.app_context():
            new = add_site(get_session(), "https://bench.example")
        app.extensions["spamward.engine"].dispose()
        return new.key, new.site.url
    finally:
        if env_backup is None:
            os.environ.pop("SPAMWARD_DATABASE_URL", None)
        else:
            os.environ["SPAMWARD_DATABASE_URL"] = env_backup


def _answered(access_log: Path, path: str) -> int:
    """Requests to `path` the server answered with 200, from its access log."""
    marker = f'"POST {path} '
    return sum(
        1 for line in access_log.read_text().splitlines() if marker in line and '" 200 ' in line
    )


def _endpoint_run(
    name: str, url: str, folder: Path, script: Path, path: str, seconds: int, connections: int
) -> Run:
    """Start the service, drive one endpoint, stop it (flushing queued checks), count rows."""
    port = _free_port()
    access_log = folder / f"access-{uuid.uuid4().hex[:6]}.log"
    before = _count_checks(url)
    process = _start("service:create_app()", {"SPAMWARD_DATABASE_URL": url}, port, access_log)
    try:
        run = _wrk_on(process, name, port, script, seconds, connections)
    finally:
        _stop(process)
    run.stored = _count_checks(url) - before
    run.answered = _answered(access_log, path)
    return run


@dataclass
class Target:
    """One database with a bench site, and the wrk scripts for its two check endpoints."""

    label: str
    url: str
    key: str
    api: Path
    akismet_script: Path
    json_script: Path
    unexplained_script: Path  # /api/v1/check?explain=false


def prepare_target(label: str, url: str, folder: Path) -> Target:
    """Migrate the database, add a site, write the request bodies and wrk scripts."""
    key, blog = _prepare(url)
    form, api = _bodies(folder / label, key, blog)
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    json_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    return Target(
        label,
        url,
        key,
        api,
        _script(folder / label, "akismet", form, "/1.1/comment-check", form_type),
        _script(folder / label, "api", api, "/api/v1/check", json_headers),
        _script(folder / label, "api-plain", api, UNEXPLAINED_PATH, json_headers),
    )


def _paired(
    name: str, target: Target, folder: Path, script: Path, path: str, seconds: int, conn: int
) -> Run:
    """A check endpoint's run, just after the bare endpoint's run on the same requests.

    Pairing keeps each ratio to the same minutes of this shared host, whose speed drifts, and
    to the same request bytes, so the ratio counts what the check adds, not the cost of
    receiving a larger body.
    """
    bare = _bare_run(f"bare Flask constant, {name} requests", folder, script, seconds, conn)
    run = _endpoint_run(f"{name} ({target.label})", target.url, folder, script, path, seconds, conn)
    run.bare = bare
    return run


def bench_database(target: Target, folder: Path, seconds: int, connections: int) -> list[Run]:
    """Run comment-check, /api/v1/check with and without explanations (each paired with bare)
    and the batch on one database."""
    endpoints = [
        ("comment-check", target.akismet_script, "/1.1/comment-check"),
        ("/api/v1/check", target.json_script, "/api/v1/check"),
        (UNEXPLAINED_PATH, target.unexplained_script, UNEXPLAINED_PATH),
    ]
    runs = [
        _paired(name, target, folder, script, path, seconds, connections)
        for name, script, path in endpoints
    ]
    port = _free_port()
    process = _start("service:create_app()", {"SPAMWARD_DATABASE_URL": target.url}, port)
    try:
        for explain in (True, False):
            runs.append(
                _batch(
                    f"http://127.0.0.1:{port}",
                    target.key,
                    target.api,
                    target.label,
                    seconds,
                    explain,
                )
            )
    finally:
        _stop(process)
    return runs


def _batch(base: str, key: str, api: Path, label: str, seconds: int, explain: bool) -> Run:
    """POST batches of 1,000 comments from one sender per worker; report comments per second."""
    comments = [json.loads(line) for line in api.read_text().splitlines()]
    batch = (comments * (1000 // len(comments) + 1))[:1000]
    body = json.dumps({"comments": batch}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    url = f"{base}/api/v1/check/batch" + ("" if explain else "?explain=false")
    started = time.monotonic()

    def sender() -> tuple[int, int, list[float]]:
        sent, errors, latencies = 0, 0, []
        while time.monotonic() - started < seconds:
            t = time.monotonic()
            try:
                urllib.request.urlopen(
                    urllib.request.Request(url, body, headers), timeout=60
                ).read()
                sent += 1000
            except OSError:
                errors += 1
            latencies.append((time.monotonic() - t) * 1000)
        return sent, errors, latencies

    with ThreadPoolExecutor(default_workers()) as pool:
        results = list(pool.map(lambda _: sender(), range(default_workers())))
    elapsed = time.monotonic() - started
    sent = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    name = f"/api/v1/check/batch x1000{'' if explain else ' explain=false'} ({label})"
    return Run(
        name,
        sent,
        sent / elapsed,
        latencies[len(latencies) // 2],
        latencies[int(len(latencies) * 0.99)],
        sum(r[1] for r in results),
    )


def _postgres_url() -> tuple[str, str]:
    name = f"spamward_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def _drop_postgres(name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _print(rounds: list[list[Run]]) -> None:
    """Per endpoint, the median over rounds; each ratio is to the run's own bare run."""
    print(
        f"{'endpoint':58s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s} "
        f"{'vs bare':>8s} {'p99/bare':>9s} {'CPU ms':>7s}  checks stored / answered (access log)"
    )
    for index in range(len(rounds[0])):
        runs = [runs[index] for runs in rounds]
        bares = [run.bare for run in runs if run.bare is not None]
        if bares:
            _print_row(bares, [])
        _print_row(runs, bares)
    print(
        f"Medians over {len(rounds)} rounds. Each check run came just after a bare run on the same "
        "requests (the row above it); 'vs bare' and 'p99/bare' compare the two, per round: "
        f"{_per_round(rounds)}"
    )
    print("CPU ms: CPU time of gunicorn and its workers per request answered (not for batches)")


def _per_round(rounds: list[list[Run]]) -> str:
    """Each round's share of bare and p99 ratio, to show the spread behind the medians."""
    shares = []
    for runs in rounds:
        paired = [(r, r.bare) for r in runs if r.bare is not None]
        shares.append(
            "/".join(f"{r.rps / b.rps:.0%} {r.p99_ms / b.p99_ms:.1f}x" for r, b in paired)
        )
    return ", ".join(shares) + " (the check endpoints in the table's order: share, p99 ratio)"


def _print_row(runs: list[Run], bares: list[Run]) -> None:
    """One endpoint's medians; ratios only where each run has its bare run."""
    ratio_text = f"{'':8s} {'':9s}"
    if bares:
        ratios = [r.rps / b.rps for r, b in zip(runs, bares, strict=True)]
        tails = [r.p99_ms / b.p99_ms for r, b in zip(runs, bares, strict=True)]
        ratio_text = f"{_median(ratios):8.0%} {_median(tails):9.2f}"
    cpu = [r.cpu_ms for r in runs if r.cpu_ms is not None]
    stored = ""
    if runs[0].stored is not None:
        total_stored = sum(r.stored or 0 for r in runs)
        total_answered = sum(r.answered or 0 for r in runs)
        verdict = "OK" if total_stored == total_answered else "MISMATCH"
        stored = f"{total_stored} / {total_answered} {verdict}"
    cpu_text = f"{_median(cpu):7.2f}" if cpu else f"{'':7s}"
    print(
        f"{runs[0].name:58s} {_median([r.rps for r in runs]):9.0f} "
        f"{_median([r.p50_ms for r in runs]):8.2f} {_median([r.p99_ms for r in runs]):8.2f} "
        f"{sum(r.errors for r in runs):7d} {ratio_text} {cpu_text}  {stored}"
    )


def _bare_run(name: str, folder: Path, script: Path, seconds: int, connections: int) -> Run:
    """The bare endpoint driven by a check endpoint's script: the same requests, a constant."""
    port = _free_port()
    # Access-logged like the check runs, so both pay for the same logging.
    log = folder / f"access-bare-{uuid.uuid4().hex[:6]}.log"
    process = _start("benchmarks.bare:create_app()", {}, port, log)
    try:
        return _wrk_on(process, name, port, script, seconds, connections)
    finally:
        _stop(process)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    print(
        f"gunicorn sync workers: {default_workers()}, {args.connections} connections, "
        f"{args.seconds} s per run, {args.rounds} rounds, {os.cpu_count()} cores, "
        f"compiled scorer: {'yes' if COMPILED else 'NO (run make setup)'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        targets = [prepare_target("SQLite", f"sqlite:///{folder / 'bench.sqlite'}", folder)]
        postgres = None if args.skip_postgres else _postgres_url()
        try:
            if postgres is not None:
                targets.append(prepare_target("PostgreSQL", postgres[0], folder))
            rounds = [
                [
                    run
                    for target in targets
                    for run in bench_database(target, folder, args.seconds, args.connections)
                ]
                for _ in range(args.rounds)
            ]
        finally:
            if postgres is not None:
                _drop_postgres(postgres[1])
    _print(rounds)


if __name__ == "__main__":
    main()
