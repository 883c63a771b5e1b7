"""gunicorn settings that `spamward serve` passes: store queued checks when a worker stops."""

from __future__ import annotations

from typing import Any


def worker_exit(server: Any, worker: Any) -> None:
    """Flush the worker's background check writer before it exits."""
    app = getattr(worker, "wsgi", None)
    writer = getattr(app, "extensions", {}).get("spamward.writer")
    if writer is not None:
        writer.close()
