"""The shipped default model: loadable, small, documented, and sensible on obvious cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import DEFAULT_MODEL_DIR, Decision, SpamModel
from model.features import comments_to_matrix
from model.persistence import file_sha256, read_card
from training.data import load_dataset

SEED_FILE = Path(__file__).resolve().parents[2] / "training" / "seed" / "seed.jsonl"
OBVIOUS_SPAM = [
    {
        "comment_content": "Buy cheap viagra and cialis online, no prescription needed! "
        "Fast delivery: http://cheap-pills-rx.shop/order",
        "comment_author": "Cheap Pills Online",
        "comment_author_url": "http://cheap-pills-rx.shop",
    },
    {
        "comment_content": "Best online casino 2026!!! 500 free spins and a $1000 bonus at "
        "http://casino-royal-bonus.win",
        "comment_author": "Casino Bonus",
    },
]
OBVIOUS_HAM = [
    {
        "comment_content": "Thanks for the write-up. I tried the second approach with the "
        "borrow checker and it compiled first time, which never happens to me.",
        "comment_author": "Maria",
        "comment_author_email": "maria@example.org",
    },
    {
        "comment_content": "We planted the same variety last spring; the frost got half of them. "
        "Next year I will wait until May like you suggest.",
        "comment_author": "Tom",
    },
]


@pytest.fixture(scope="module")
def shipped() -> SpamModel:
    return SpamModel.load(DEFAULT_MODEL_DIR)


def test_the_shipped_model_is_under_20_mb() -> None:
    total = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir())
    assert total < 20 * 1024 * 1024


def test_the_card_names_the_sources_and_their_licences(shipped: SpamModel) -> None:
    sources = {s["source"] for s in shipped.card.sources}
    assert sources == {"youtube", "sms", "seed"}
    licences = " ".join(shipped.card.licences)
    assert "CC BY 4.0" in licences
    assert "TubeSpam" in licences and "DocEng 2011" in licences


def test_the_card_records_thresholds_in_order(shipped: SpamModel) -> None:
    t = shipped.card.thresholds
    assert 0.0 < t.unsure <= t.spam <= t.discard <= 1.0
    assert "blocked ham" in shipped.card.threshold_method


def test_the_seed_set_in_the_card_is_the_one_in_the_repository(shipped: SpamModel) -> None:
    seed = next(s for s in shipped.card.sources if s["source"] == "seed")
    assert seed["sha256"] == file_sha256(SEED_FILE)
    assert seed["kept"] >= 400


@pytest.mark.parametrize("comment", OBVIOUS_SPAM)
def test_obvious_spam_is_spam(shipped: SpamModel, comment: dict[str, str]) -> None:
    assert shipped.check(comment).decision is Decision.SPAM


@pytest.mark.parametrize("comment", OBVIOUS_HAM)
def test_obvious_ham_is_ham(shipped: SpamModel, comment: dict[str, str]) -> None:
    assert shipped.check(comment).decision is Decision.HAM


def test_more_links_raise_the_score(shipped: SpamModel) -> None:
    text = "Nice article about budgeting, I learned a lot"
    plain = shipped.fast.probability({"comment_content": text})
    links = " ".join(f"http://deal{i}.example.xyz" for i in range(5))
    assert shipped.fast.probability({"comment_content": f"{text} {links}"}) > plain


def test_fast_path_equals_the_pipeline_on_a_thousand_real_comments(
    shipped: SpamModel, corpora: Path
) -> None:
    examples = load_dataset([corpora / "youtube_spam", corpora / "sms_spam"]).examples
    comments = [e.comment for e in examples[::6]][:1000]
    assert len(comments) == 1000
    batch = shipped.pipeline.predict_proba(comments_to_matrix(comments))[:, 1]
    fast = [shipped.fast.probability(c) for c in comments]
    assert max(abs(a - b) for a, b in zip(batch, fast, strict=True)) < 1e-9


def test_the_card_sources_match_the_public_corpora(shipped: SpamModel, corpora: Path) -> None:
    for source in shipped.card.sources:
        if source["source"] in ("youtube", "sms"):
            name = Path(source["path"]).name
            folder = "youtube_spam" if source["source"] == "youtube" else "sms_spam"
            assert file_sha256(corpora / folder / name) == source["sha256"]


def test_read_card_of_the_default_folder_matches_the_loaded_model(shipped: SpamModel) -> None:
    assert read_card(DEFAULT_MODEL_DIR) == shipped.card
