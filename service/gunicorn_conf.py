"""gunicorn settings that `spamward serve` passes: stop background threads when a worker stops."""

from __future__ import annotations

from typing import Any


def worker_exit(server: Any, worker: Any) -> None:
    """Flush the worker's background check writer and stop its webhook deliverer."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", {})
    for name in ("spamward.writer", "spamward.webhooks"):
        thread = extensions.get(name)
        if thread is not None:
            thread.close()
