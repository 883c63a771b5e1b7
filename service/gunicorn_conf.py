"""gunicorn settings that `spamward serve` passes: stop background threads when a worker stops."""

from __future__ import annotations

from typing import Any


def worker_exit(server: Any, worker: Any) -> None:
    """Flush the worker's background check writer; stop its webhook deliverer and model poll."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", {})
    for name in ("spamward.writer", "spamward.webhooks", "spamward.models"):
        thread = extensions.get(name)
        if thread is not None:
            thread.close()
