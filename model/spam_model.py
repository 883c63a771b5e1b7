"""A loaded model: pipeline, card and fast path behind one small interface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from model.card import ModelCard
from model.decision import Decision, Thresholds, decide
from model.features import Comment, comments_to_matrix
from model.persistence import load_pipeline, load_pipeline_bytes
from model.scorer import Explanation, FastScorer

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"


class Verdict(NamedTuple):
    """The answer for one comment (a named tuple: see Explanation)."""

    probability: float
    decision: Decision
    discard: bool
    explanation: Explanation
    model_version: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "probability": self.probability,
            "decision": self.decision.value,
            "discard": self.discard,
            "explanation": self.explanation.as_dict(),
            "model_version": self.model_version,
        }


class SpamModel:
    """A trained model ready to score comments."""

    def __init__(self, pipeline: Any, card: ModelCard) -> None:
        self.pipeline = pipeline
        self.card = card
        self.fast = FastScorer(pipeline)

    @classmethod
    def load(cls, folder: Path = DEFAULT_MODEL_DIR) -> SpamModel:
        """Load and verify the model in `folder` (the shipped default when not given)."""
        pipeline, card = load_pipeline(folder)
        return cls(pipeline, card)

    @classmethod
    def from_bytes(cls, card: ModelCard, artifact: bytes, origin: str) -> SpamModel:
        """Load a model from a registry's copy of its artifact, verified against its card."""
        return cls(load_pipeline_bytes(card, artifact, origin), card)

    @property
    def version(self) -> str:
        """The model's version id, from its card."""
        return self.card.version

    def check(self, comment: Comment, thresholds: Thresholds | None = None) -> Verdict:
        """Score one comment on the fast path and decide what to do with it."""
        probability, explanation = self.fast.score(comment)
        decision, discard = decide(probability, thresholds or self.card.thresholds)
        return Verdict(probability, decision, discard, explanation, self.version)

    def probabilities(self, comments: Sequence[Comment]) -> list[float]:
        """Score many comments at once through the pipeline (the batch path)."""
        if not comments:
            return []
        return [float(p) for p in self.pipeline.predict_proba(comments_to_matrix(comments))[:, 1]]
