"""Storing checks in the background, many rows per transaction (group commit).

One commit per comment-check costs more than scoring the comment; a writer thread per process
takes the rows the requests hand it and stores whatever has queued up in one transaction. The
answer is sent before its row is stored: `flush()` waits for everything handed over so far, and
a row is readable from other processes once its window has passed. The thread gathers rows for
a window (`SPAMWARD_WRITE_WINDOW_SECONDS`, 0.05 s by default) after the first, so that a busy
process commits about twenty times a second, not per row. Each transaction has a cost that does
not depend on its size (a connection checked out and pinged, BEGIN, COMMIT, caches gone cold
since the last one). Under load on this project's 2-core machine, a 0.2 s window took the
writer's CPU per stored check from about 23 to 18 us on SQLite, and the writer's plus
PostgreSQL's from about 45 to 33 us, but the larger bursts of work raised every check
endpoint's p99 (five-round benchmark runs: 1.48 -> 1.65x bare for comment-check on SQLite,
2.10 -> 2.36x for the JSON check on PostgreSQL), so the default stays at 0.05 s.
Stopping the process gracefully (SIGTERM to gunicorn) flushes first; a hard kill loses at most
the rows of the last window or so.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from service.bulk_insert import insert_checks
from service.check_ids import CheckIds

log = logging.getLogger(__name__)


class WriterBacklogged(Exception):
    """Too many checks wait to be stored (the database is down or too slow): store in-line."""


class CheckWriter:
    """A background thread that inserts queued check rows in batches."""

    def __init__(
        self,
        engine: Engine,
        ids: CheckIds,
        max_rows: int = 500,
        retry_seconds: float = 1.0,
        max_pending: int = 10_000,
        gather_seconds: float = 0.05,
    ) -> None:
        self.engine = engine
        self.ids = ids
        self.max_rows = max_rows
        # How long to keep gathering rows after the first: fewer, larger transactions.
        self.gather_seconds = gather_seconds
        self.retry_seconds = retry_seconds
        self.max_pending = max_pending
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        # A plain lock under the condition: `submit` takes it directly, in C, where entering the
        # condition (an RLock by default) runs threading's Python code on every check.
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        # Set by flush(): a reader waits for the rows, so store them without waiting the window.
        self._hurry = threading.Event()
        self._submitted = 0
        self._written = 0
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False

    def submit(self, row: dict[str, Any]) -> None:
        """Hand over one row to store.

        :raises WriterBacklogged: when max_pending rows already wait; memory must not grow
            without bound while the database is away.
        """
        self._ensure_thread()
        with self._lock:
            if self._submitted - self._written >= self.max_pending:
                raise WriterBacklogged(f"{self.max_pending} checks wait to be stored")
            self._submitted += 1
        self._queue.put(row)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every row handed over before this call is stored; False on timeout."""
        with self._done:
            target = self._submitted
            if self._written >= target:
                return True
            self._hurry.set()
            return self._done.wait_for(lambda: self._written >= target, timeout=timeout)

    def close(self) -> None:
        """Store what is queued and stop taking rows."""
        if self._thread is not None and self._pid == os.getpid():
            self.flush()
        self._closed = True

    def _ensure_thread(self) -> None:
        # Started lazily, and again after a fork: threads do not survive fork().
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._done:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="check-writer", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def _take_batch(self) -> list[dict[str, Any]]:
        # Sleep through the gathering window (cut short by flush()), then drain: waiting on the
        # queue instead would wake this thread, and take the GIL from a request, on every row.
        rows = [self._queue.get()]
        if self._queue.qsize() < self.max_rows - 1:  # a backlog is stored without waiting
            self._hurry.wait(self.gather_seconds)
        self._hurry.clear()
        while len(rows) < self.max_rows:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return rows

    def _run(self) -> None:
        while True:
            rows = self._take_batch()
            self._store(rows)
            with self._done:
                self._written += len(rows)
                self._done.notify_all()

    def _give_ids(self, rows: list[dict[str, Any]]) -> None:
        """Ids for rows queued without one (comment-checks, whose answer has none)."""
        waiting = [row for row in rows if "id" not in row]
        if waiting:
            for row, check_id in zip(waiting, self.ids.take(len(waiting)), strict=True):
                row["id"] = check_id

    def _store(self, rows: list[dict[str, Any]]) -> None:
        """Insert rows in one transaction; wait out a database outage; isolate a bad row."""
        while True:
            try:
                self._give_ids(rows)
                with self.engine.begin() as connection:
                    insert_checks(connection, rows)
                return
            except OperationalError:
                log.exception("database unavailable; %d checks wait to be stored", len(rows))
                time.sleep(self.retry_seconds)
            except DBAPIError:
                if len(rows) == 1:
                    log.exception("dropped a check the database refused: %s", rows[0]["guid"])
                    return
                for row in rows:
                    self._store([row])
                return
