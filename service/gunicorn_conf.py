"""gunicorn settings that `spamward serve` passes: a worker's start and stop.

At start, what the worker has loaded (the app and its model) is frozen out of the garbage
collector's sight. The model is some 200,000 objects; without the freeze, each full collection
walks them all, a pause of about 140 ms that lands in the slowest answers (measured in one
process on this project's 2-core machine). A new champion is frozen the same way once loaded.
At stop, background threads are stopped and queued checks stored.
"""

from __future__ import annotations

import gc
from typing import Any

from service.registry import ModelHolder


def post_worker_init(worker: Any) -> None:
    """Freeze the loaded app and model; freeze each model the worker switches to as well."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", {})
    holder = extensions.get("spamward.models")
    if isinstance(holder, ModelHolder):
        holder.after_switch = refreeze
    gc.freeze()


def refreeze() -> None:
    """Collect what the last freeze kept (the model just replaced), then freeze what is left.

    One full collection per model switch: a pause of the order of 100 ms in that worker.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """Flush the worker's background check writer; stop its webhook deliverer and model poll."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", {})
    for name in ("spamward.writer", "spamward.webhooks", "spamward.models"):
        thread = extensions.get(name)
        if thread is not None:
            thread.close()
