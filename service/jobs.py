"""Background jobs (retrainings): one at a time, with progress, and cleaned up when killed.

The `lock` column is unique and set only while a job runs, so the database itself refuses a
second one. A job whose process died (killed, machine restarted) stops sending heartbeats; the
next start notices, marks it failed and takes the lock.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.models import Job, JobStatus, as_utc, utc_now

# The kind of job `spamward retrain` records (and the admin page shows).
RETRAIN_JOB = "retrain"
# A running job writes a heartbeat at least this often (each progress line is one).
STALE_AFTER = timedelta(minutes=10)


class JobAlreadyRunning(Exception):
    """Another job of the same kind is running."""


def _alive(job: Job) -> bool:
    if job.host != socket.gethostname() or job.pid is None:
        return utc_now() - as_utc(job.heartbeat_at) < STALE_AFTER
    try:
        os.kill(job.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_job(session: Session, kind: str) -> Job | None:
    """The job of `kind` running now; a dead one found here is marked failed first."""
    job = session.scalar(select(Job).where(Job.lock == kind))
    if job is not None and not _alive(job):
        fail(session, job, "interrupted: its process is gone; the champion was left in place")
        return None
    return job


def start_job(session: Session, kind: str, actor: str) -> Job:
    """Record a new running job of `kind` for this process.

    :raises JobAlreadyRunning: when one is running (its progress is in the message).
    """
    current = running_job(session, kind)
    if current is not None:
        raise JobAlreadyRunning(
            f"{kind} job {current.id} is running ({current.progress or 'starting'})"
        )
    job = Job(
        kind=kind,
        status=JobStatus.RUNNING.value,
        lock=kind,
        actor=actor,
        pid=os.getpid(),
        host=socket.gethostname(),
    )
    session.add(job)
    try:
        session.commit()
    except IntegrityError as exc:  # another process started one between our read and write
        session.rollback()
        raise JobAlreadyRunning(f"another {kind} job has just started") from exc
    return job


def report_progress(session: Session, job: Job, progress: str) -> None:
    """Record how far the job got (also its heartbeat)."""
    job.progress = progress[:500]
    job.heartbeat_at = utc_now()
    session.commit()


def succeed(session: Session, job: Job, result: dict[str, Any]) -> None:
    """Mark the job done with its result and release the lock."""
    _finish(session, job, JobStatus.SUCCEEDED, result=result)


def fail(session: Session, job: Job, error: str | BaseException) -> None:
    """Mark the job failed with the error and release the lock."""
    text = error if isinstance(error, str) else "".join(traceback.format_exception(error))
    _finish(session, job, JobStatus.FAILED, error=text)


def _finish(
    session: Session,
    job: Job,
    status: JobStatus,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    job.status, job.lock, job.finished_at = status.value, None, utc_now()
    job.result, job.error = result, error
    session.commit()


def recent_jobs(session: Session, kind: str, limit: int = 20) -> list[Job]:
    """The newest jobs of `kind`, newest first."""
    query = select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(limit)
    return list(session.scalars(query))


def spawn_retrain(database_url: str, model_dir: str, log_dir: Path, actor: str) -> int:
    """Start `spamward retrain` in its own process (for the admin page); return its pid.

    The job row is written by that process; its output goes to a log file in `log_dir`, where a
    failure before the job row exists (a bad setting, say) can still be read.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    command = str(Path(sys.executable).with_name("spamward"))
    env = {
        **os.environ,
        "SPAMWARD_DATABASE_URL": database_url,
        "SPAMWARD_MODEL_DIR": model_dir,
        "SPAMWARD_RETRAIN_ACTOR": actor,
    }
    log = (log_dir / f"retrain-{utc_now():%Y%m%d-%H%M%S}.log").open("ab")
    with log:
        process = subprocess.Popen(
            [command, "retrain"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # not killed with the worker that started it
        )
    # Wait for it in the background, so that it never lingers as a zombie.
    threading.Thread(target=process.wait, name="retrain-reaper", daemon=True).start()
    return process.pid
