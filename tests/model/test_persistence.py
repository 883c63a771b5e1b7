"""Saving and loading models: atomic writes, and loads that refuse what they cannot trust."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import sklearn

from model import (
    ModelCardError,
    ModelIntegrityError,
    ModelNotFoundError,
    ModelVersionError,
    SpamModel,
)
from model.card import CARD_FILE
from model.features import FEATURE_VERSION
from model.persistence import (
    file_sha256,
    load_pipeline,
    load_pipeline_bytes,
    read_card,
    save_model,
)


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(folder, target)
    return target


def _edit_card(folder: Path, **changes: object) -> None:
    path = folder / CARD_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_a_saved_model_loads_with_the_same_card(tiny_model_dir: Path) -> None:
    model = SpamModel.load(tiny_model_dir)
    assert model.card == read_card(tiny_model_dir)
    assert model.version.endswith(model.card.artifact_sha256[:8])


def test_the_card_records_the_artifact_sha256_and_versions(tiny_model_dir: Path) -> None:
    card = read_card(tiny_model_dir)
    assert file_sha256(tiny_model_dir / card.artifact_file) == card.artifact_sha256
    assert card.environment["scikit-learn"] == sklearn.__version__
    assert card.feature_version == FEATURE_VERSION


def test_a_model_folder_holds_only_the_card_and_one_artifact(tiny_model_dir: Path) -> None:
    names = sorted(p.name for p in tiny_model_dir.iterdir())
    assert names == sorted([CARD_FILE, read_card(tiny_model_dir).artifact_file])


def test_saving_again_replaces_the_artifact_and_removes_the_old_one(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    old = read_card(folder)
    pipeline, _ = load_pipeline(folder)
    pipeline.named_steps["classifier"].intercept_ += 0.5  # a different model, other bytes
    new = save_model(pipeline, old, folder)
    assert new.artifact_file != old.artifact_file
    assert not (folder / old.artifact_file).exists()
    assert read_card(folder) == new


def test_a_failed_save_leaves_the_old_model_loadable(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    before = read_card(folder)

    class Unpicklable:
        def __reduce__(self) -> str:
            raise RuntimeError("interrupted mid-write")

    with pytest.raises(RuntimeError, match="interrupted"):
        save_model(Unpicklable(), before, folder)
    assert SpamModel.load(folder).card == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_a_folder_without_a_card_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"card\.json"):
        SpamModel.load(tmp_path)


def test_a_card_that_is_not_json_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / CARD_FILE).write_text("{not json")
    with pytest.raises(ModelCardError, match=str(tmp_path / CARD_FILE)):
        SpamModel.load(tmp_path)


def test_a_tampered_artifact_is_refused_with_both_hashes(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    card = read_card(folder)
    with (folder / card.artifact_file).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelIntegrityError) as caught:
        SpamModel.load(folder)
    message = str(caught.value)
    assert card.artifact_sha256 in message
    assert file_sha256(folder / card.artifact_file) in message
    assert card.artifact_file in message


def test_an_artifact_from_another_scikit_learn_minor_version_is_refused(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    card = read_card(folder)
    _edit_card(folder, environment={**card.environment, "scikit-learn": "1.2.2"})
    with pytest.raises(ModelVersionError, match=r"1\.2\.2.*" + sklearn.__version__):
        SpamModel.load(folder)


def test_an_artifact_naming_a_class_this_install_lacks_is_refused_as_another_version(
    tiny_model_dir: Path,
) -> None:
    # A pickle of `model.from_the_future.Vectorizer()`, as a newer Spamward might write.
    artifact = b"cmodel.from_the_future\nVectorizer\n)R."
    card = dataclasses.replace(
        read_card(tiny_model_dir), artifact_sha256=hashlib.sha256(artifact).hexdigest()
    )
    with pytest.raises(ModelVersionError, match=r"another Spamward version.*from_the_future"):
        load_pipeline_bytes(card, artifact, "registry version 7")


def test_another_patch_release_of_scikit_learn_is_accepted(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    card = read_card(folder)
    major, minor = sklearn.__version__.split(".")[:2]
    _edit_card(folder, environment={**card.environment, "scikit-learn": f"{major}.{minor}.99"})
    assert SpamModel.load(folder).version == card.version


def test_a_model_made_with_other_features_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    _edit_card(folder, feature_version=FEATURE_VERSION + 1)
    with pytest.raises(ModelVersionError, match="feature version"):
        SpamModel.load(folder)


@pytest.mark.parametrize("name", ["../elsewhere.joblib", "/etc/passwd", ".staged.joblib"])
def test_an_artifact_outside_the_model_folder_is_never_loaded(
    tiny_model_dir: Path, tmp_path: Path, name: str
) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    _edit_card(folder, artifact_file=name)
    with pytest.raises(ModelIntegrityError, match="inside the model folder"):
        SpamModel.load(folder)


def test_a_card_naming_a_missing_artifact_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    (folder / read_card(folder).artifact_file).unlink()
    with pytest.raises(ModelNotFoundError, match="missing"):
        SpamModel.load(folder)


def test_saved_files_are_readable_by_other_users(tiny_model_dir: Path) -> None:
    for path in tiny_model_dir.iterdir():
        assert path.stat().st_mode & 0o044 == 0o044


def test_save_fills_in_version_time_and_artifact(tiny_model_dir: Path) -> None:
    card = read_card(tiny_model_dir)
    blank = dataclasses.replace(card, version="", created_at="", artifact_file="")
    assert blank.version == ""
    assert card.created_at.endswith("+00:00")
    assert card.artifact_file.startswith("model-") and card.artifact_file.endswith(".joblib")
