"""Saving and loading artifacts: atomic writes, and loads that check sha256 and versions first.

A model folder holds `card.json` and the artifact it names (`model-<sha256 prefix>.joblib`).
The card is the pointer: a save writes the new artifact under a fresh name, then replaces the
card in one rename, so a reader sees the old pair or the new pair, never a half-written file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import platform
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from model.card import CARD_FILE, ModelCard
from model.errors import (
    ModelIntegrityError,
    ModelNotFoundError,
    ModelVersionError,
)
from model.features import FEATURE_VERSION


def runtime_versions() -> dict[str, str]:
    """Return the versions that decide whether an artifact can be loaded here."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(folder: Path, final_name: str, write: Any) -> Path:
    """Write through a temporary file in `folder`, fsync it, then rename it to `final_name`."""
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; a model is read by the service's own user.
        tmp.chmod(0o644)
        final = folder / final_name
        os.replace(tmp, final)
        _fsync_dir(folder)
        return final
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_model(pipeline: Any, card: ModelCard, folder: Path) -> ModelCard:
    """Save `pipeline` and its card into `folder` atomically; return the card as written.

    The card's artifact fields, version and creation time are filled in here.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staged = _write_durably(folder, ".staged.joblib", lambda h: joblib.dump(pipeline, h))
    sha = file_sha256(staged)
    artifact = f"model-{sha[:16]}.joblib"
    os.replace(staged, folder / artifact)
    now = datetime.now(UTC)
    final_card = dataclasses.replace(
        card,
        version=f"{now:%Y%m%d-%H%M%S}-{sha[:8]}",
        created_at=now.isoformat(timespec="seconds"),
        artifact_file=artifact,
        artifact_sha256=sha,
        feature_version=FEATURE_VERSION,
        environment=runtime_versions(),
    )
    previous = _artifact_named_by_card(folder)
    _write_durably(folder, CARD_FILE, lambda h: h.write(final_card.to_json().encode()))
    if previous and previous != artifact:
        with contextlib.suppress(FileNotFoundError):
            (folder / previous).unlink()
    return final_card


def _artifact_named_by_card(folder: Path) -> str | None:
    try:
        return read_card(folder).artifact_file
    except Exception:  # an unreadable old card must not stop a new save
        return None


def read_card(folder: Path) -> ModelCard:
    """Read the card in `folder`.

    :raises ModelNotFoundError: when the folder has no card.
    :raises ModelCardError: when the card is not valid.
    """
    path = folder / CARD_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ModelNotFoundError(
            f"{path}: no model card (train one with `spamward train`)"
        ) from exc
    return ModelCard.from_json(text, origin=str(path))


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def check_compatible(card: ModelCard, origin: str) -> None:
    """Check that this install can load what the card describes.

    :raises ModelVersionError: another scikit-learn minor version or feature version.
    """
    made_with = card.environment.get("scikit-learn", "?")
    if _minor(made_with) != _minor(sklearn.__version__):
        raise ModelVersionError(
            f"{origin}: made with scikit-learn {made_with}, "
            f"this install has {sklearn.__version__}; retrain, or install scikit-learn "
            f"{'.'.join(_minor(made_with))}.x"
        )
    if card.feature_version != FEATURE_VERSION:
        raise ModelVersionError(
            f"{origin}: expected feature version {FEATURE_VERSION}, "
            f"found {card.feature_version}; retrain the model"
        )


def check_loadable(card: ModelCard, folder: Path) -> Path:
    """Check the card's versions and the artifact's sha256; return the artifact's path.

    :raises ModelVersionError, ModelNotFoundError, ModelIntegrityError: as named.
    """
    check_compatible(card, str(folder / CARD_FILE))
    if Path(card.artifact_file).name != card.artifact_file or card.artifact_file.startswith("."):
        raise ModelIntegrityError(
            f"{folder / CARD_FILE}: artifact must be a file name inside the model folder, "
            f"got {card.artifact_file!r}"
        )
    artifact = folder / card.artifact_file
    if not artifact.is_file():
        raise ModelNotFoundError(f"{artifact}: artifact named by the card is missing")
    found = file_sha256(artifact)
    if found != card.artifact_sha256:
        raise ModelIntegrityError(
            f"{artifact}: sha256 mismatch: expected {card.artifact_sha256}, found {found}"
        )
    return artifact


def _unpickle(source: Any, origin: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            return joblib.load(source)
        except InconsistentVersionWarning as exc:
            raise ModelVersionError(f"{origin}: {exc}") from exc
        except (AttributeError, ImportError) as exc:
            # A class this install does not have: the artifact comes from a newer Spamward.
            raise ModelVersionError(
                f"{origin}: made by another Spamward version, this one cannot load it: {exc}"
            ) from exc


def load_pipeline_bytes(card: ModelCard, artifact: bytes, origin: str) -> Any:
    """Load a pipeline from artifact bytes (a model registry's copy) after every check passes.

    :raises ModelVersionError, ModelIntegrityError: as named; nothing is unpickled then.
    """
    check_compatible(card, origin)
    found = hashlib.sha256(artifact).hexdigest()
    if found != card.artifact_sha256:
        raise ModelIntegrityError(
            f"{origin}: sha256 mismatch: expected {card.artifact_sha256}, found {found}"
        )
    return _unpickle(io.BytesIO(artifact), origin)


def load_pipeline(folder: Path) -> tuple[Any, ModelCard]:
    """Load the pipeline and card from a trusted model folder, after every check passes."""
    card = read_card(folder)
    artifact = check_loadable(card, folder)
    return _unpickle(artifact, str(artifact)), card
