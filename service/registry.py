"""The model registry: every trained model is a version in the database; one is the champion.

The newest row of `promotions` names the champion. Promoting or rolling back only adds a row;
each service process notices it (see `ModelHolder`) and switches between requests.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from model import DEFAULT_MODEL_DIR, ModelError, SpamModel
from model.card import ModelCard
from model.persistence import check_loadable, read_card
from service.models import ModelVersion, Promotion

log = logging.getLogger(__name__)


class RegistryError(Exception):
    """A registry operation that cannot be done; the message says why."""


class UnknownVersion(RegistryError):
    """No model version has that name."""


class NothingToRollBack(RegistryError):
    """The champion has no predecessor to go back to."""


def register(
    session: Session,
    card: ModelCard,
    artifact: bytes,
    origin: str,
    report: dict[str, Any] | None = None,
) -> ModelVersion:
    """Add a model version (or return the same one if already registered); commits.

    :raises RegistryError: when the bytes do not match the card's sha256, or the version name
        is taken by another artifact.
    """
    found = hashlib.sha256(artifact).hexdigest()
    if found != card.artifact_sha256:
        raise RegistryError(
            f"model {card.version}: artifact sha256 {found} does not match its card's "
            f"{card.artifact_sha256}"
        )
    existing = session.scalar(select(ModelVersion).where(ModelVersion.version == card.version))
    if existing is not None:
        if existing.sha256 != found:
            raise RegistryError(f"model {card.version} is registered with another artifact")
        return existing
    version = ModelVersion(
        version=card.version,
        sha256=found,
        card=card.to_json(),
        artifact=artifact,
        origin=origin,
        report=report,
    )
    session.add(version)
    session.commit()
    return version


def register_folder(session: Session, folder: Path, origin: str) -> ModelVersion:
    """Register the model saved in `folder` (its card and the artifact it names)."""
    card = read_card(folder)
    artifact = check_loadable(card, folder)
    return register(session, card, artifact.read_bytes(), origin)


def find_version(session: Session, version: str) -> ModelVersion:
    """The model version named `version`.

    :raises UnknownVersion: when there is none.
    """
    found = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if found is None:
        raise UnknownVersion(f"no model version {version!r}; see `spamward models list`")
    return found


def latest_promotion(session: Session) -> Promotion | None:
    """The promotion that made the current champion, if any."""
    return session.scalar(select(Promotion).order_by(Promotion.id.desc()).limit(1))


def champion(session: Session) -> ModelVersion | None:
    """The model version every instance should serve, if the registry names one."""
    promotion = latest_promotion(session)
    return None if promotion is None else session.get(ModelVersion, promotion.model_id)


def load_version(version: ModelVersion) -> SpamModel:
    """Load a registered model after checking its bytes against its card.

    :raises ModelError: when it cannot be loaded here (sha256, library or feature version).
    """
    card = ModelCard.from_json(version.card, origin=f"model {version.version}")
    return SpamModel.from_bytes(card, version.artifact, f"model {version.version}")


def ensure_current_registered(session: Session, folder: Path) -> None:
    """Before the first promotion, record the folder's model as the champion it has been.

    Until then every instance serves the model folder's model (the shipped one by default);
    registering it first is what lets a rollback return to it.
    """
    if latest_promotion(session) is not None:
        return
    origin = "shipped" if folder.resolve() == DEFAULT_MODEL_DIR.resolve() else "import"
    version = register_folder(session, folder, origin)
    session.add(
        Promotion(model_id=version.id, previous_model_id=None, action="initial", actor="system")
    )
    session.commit()


def _switch_to(session: Session, target: ModelVersion, action: str, actor: str) -> Promotion:
    current = latest_promotion(session)
    if current is not None and current.model_id == target.id:
        raise RegistryError(f"model {target.version} is already the champion")
    try:
        load_version(target)  # every instance will load it: refuse one that cannot load
    except ModelError as exc:
        raise RegistryError(f"model {target.version} cannot be loaded: {exc}") from exc
    promotion = Promotion(
        model_id=target.id,
        previous_model_id=None if current is None else current.model_id,
        action=action,
        actor=actor,
    )
    session.add(promotion)
    session.commit()
    return promotion


def promote(session: Session, version: str, actor: str) -> Promotion:
    """Make `version` the champion.

    :raises UnknownVersion, RegistryError: as named.
    """
    return _switch_to(session, find_version(session, version), "promote", actor)


def rollback(session: Session, actor: str) -> Promotion:
    """Make the champion's predecessor the champion again.

    :raises NothingToRollBack: when no model was live before the champion.
    """
    current = latest_promotion(session)
    if current is None or current.previous_model_id is None:
        raise NothingToRollBack("no earlier champion to roll back to")
    previous = session.get(ModelVersion, current.previous_model_id)
    assert previous is not None  # a foreign key keeps it
    return _switch_to(session, previous, "rollback", actor)


@dataclass(frozen=True)
class VersionRow:
    """One line of `spamward models list`."""

    version: str
    origin: str
    created_at: str
    sha256: str
    champion: bool
    metrics: dict[str, Any]


def _overall_metrics(card: ModelCard) -> dict[str, Any]:
    overall: dict[str, Any] = card.metrics.get("validation", {}).get("overall", {})
    return overall


def list_versions(session: Session) -> list[VersionRow]:
    """Every registered version, newest first, with the champion marked."""
    live = champion(session)
    rows = session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())).all()
    return [
        VersionRow(
            row.version,
            row.origin,
            row.created_at.isoformat(timespec="seconds"),
            row.sha256,
            live is not None and row.id == live.id,
            _overall_metrics(ModelCard.from_json(row.card)),
        )
        for row in rows
    ]


class ModelHolder:
    """The model a process serves: the registry's champion, else the configured folder's.

    `get()` never waits on the database or a load: a thread per process (started by the first
    `get()` after a fork, as threads do not survive one) looks at the registry every
    `poll_seconds` and loads a new champion, then swaps it in by one assignment, so requests
    see the old model or the new one, never a half-loaded one; an idle worker switches too.
    """

    def __init__(self, engine: Engine, fallback_dir: Path, poll_seconds: float) -> None:
        self._sessions = sessionmaker(engine)
        self._fallback_dir = fallback_dir
        self.poll_seconds = poll_seconds
        self._model: SpamModel | None = None
        self._model_id: int | None = None  # registry id of the served model; None: the folder's
        self._refreshing = threading.Lock()
        self._poller_pid = 0  # the process whose poller thread runs
        # Its own lock: `get()` must not wait on `_refreshing`, held while a model loads.
        self._poller_lock = threading.Lock()
        self._closed = threading.Event()
        self._refused: set[int] = set()  # versions that failed to load here: not retried
        # Called (in the poller thread) once a new model is served: gunicorn_conf's GC freeze.
        self.after_switch: Callable[[], None] | None = None

    def start(self) -> None:
        """Load the champion (or the folder's model) before serving anything."""
        self.refresh()
        if self._model is None:
            self._model = SpamModel.load(self._fallback_dir)

    def get(self) -> SpamModel:
        """The model to answer with now."""
        if self.poll_seconds > 0 and self._poller_pid != os.getpid():
            self._start_poller()
        assert self._model is not None, "ModelHolder.start() was not called"
        return self._model

    @property
    def model_id(self) -> int | None:
        """The registry id of the served model (None: the configured folder's)."""
        return self._model_id

    def _start_poller(self) -> None:
        with self._poller_lock:
            if self._poller_pid == os.getpid():
                return
            self._poller_pid = os.getpid()
        threading.Thread(target=self._poll, name="model-poll", daemon=True).start()

    def _poll(self) -> None:
        while not self._closed.wait(self.poll_seconds):
            self.refresh()

    def close(self) -> None:
        """Stop looking at the registry (the worker is stopping, or a test is done)."""
        self._closed.set()

    def refresh(self) -> bool:
        """Switch to the registry's champion if it changed; True when it switched."""
        if not self._refreshing.acquire(blocking=False):
            return False
        try:
            return self._refresh()
        finally:
            self._refreshing.release()

    def _refresh(self) -> bool:
        try:
            with self._sessions() as session:
                live = champion(session)
                if live is None or live.id == self._model_id or live.id in self._refused:
                    return False
                model = load_version(live)
                model_id = live.id
        except ModelError:
            log.exception("pid %d: cannot load the new champion; keeping %s", os.getpid(), self)
            self._refused.add(live.id)  # type: ignore[union-attr]
            return False
        except Exception:  # the database may be away: keep serving what is loaded
            log.exception("pid %d: cannot read the model registry", os.getpid())
            return False
        self._model, self._model_id = model, model_id
        log.info("pid %d: now serving model %s", os.getpid(), model.version)
        if self.after_switch is not None:
            self.after_switch()
        return True

    def __str__(self) -> str:
        return "no model" if self._model is None else f"model {self._model.version}"
