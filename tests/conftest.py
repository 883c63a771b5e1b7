"""Fixtures shared by every test: a tiny trained model and the public corpora's location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from model import SpamModel
from model.persistence import save_model
from tests.factories import make_examples
from training.data import Dataset, SourceReport
from training.train import train

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPORA_HELP = (
    "the public corpora were not found at {path}: put the UCI YouTube Spam Collection "
    "(https://archive.ics.uci.edu/dataset/380) in youtube_spam/ and the UCI SMS Spam Collection "
    "(https://archive.ics.uci.edu/dataset/228) in sms_spam/ there, or set SPAMWARD_CORPORA"
)
# Small enough to fit in a second, varied enough for every feature block to get a vocabulary.
TINY_PARAMS = {"char_min_df": 1, "C": 10.0}


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The folder holding youtube_spam/ and sms_spam/; skip (or fail in CI) when absent."""
    path = Path(os.environ.get("SPAMWARD_CORPORA") or PROJECT_ROOT.parent / "shared" / "data")
    if (path / "youtube_spam").is_dir() and (path / "sms_spam").is_dir():
        return path
    message = CORPORA_HELP.format(path=path)
    if os.environ.get("SPAMWARD_REQUIRE_CORPORA") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def tiny_dataset() -> Dataset:
    """Two hundred labelled comments made by tests/factories.py."""
    examples = make_examples(200)
    report = SourceReport("fixture.jsonl", "akismet-jsonl", "fixture", "0" * 64, 200, 200)
    return Dataset(examples, [report])


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_dataset: Dataset) -> Path:
    """A model folder holding a tiny model trained on the fixture comments."""
    folder = tmp_path_factory.mktemp("tiny-model")
    pipeline, card = train(tiny_dataset, TINY_PARAMS)
    save_model(pipeline, card, folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> SpamModel:
    """The tiny model, loaded through the same checks as any model."""
    return SpamModel.load(tiny_model_dir)
