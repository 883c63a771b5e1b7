"""From a spam probability to a decision: ham, unsure or spam, and whether to discard."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from model.errors import ThresholdError


class Decision(StrEnum):
    """What to do with a comment."""

    HAM = "ham"
    UNSURE = "unsure"
    SPAM = "spam"


@dataclass(frozen=True)
class Thresholds:
    """Probability cut-offs: `unsure <= spam <= discard`, each in [0, 1]."""

    unsure: float
    spam: float
    discard: float

    def __post_init__(self) -> None:
        values = (self.unsure, self.spam, self.discard)
        if not all(0.0 <= v <= 1.0 for v in values):
            raise ThresholdError(f"thresholds must lie in [0, 1], got {values}")
        if not self.unsure <= self.spam <= self.discard:
            raise ThresholdError(f"thresholds must satisfy unsure <= spam <= discard, got {values}")

    def as_dict(self) -> dict[str, float]:
        """Return the thresholds as a plain dict, for JSON."""
        return {"unsure": self.unsure, "spam": self.spam, "discard": self.discard}


def decide(probability: float, thresholds: Thresholds) -> tuple[Decision, bool]:
    """Map a spam probability to a decision and the discard flag (Akismet's pro-tip)."""
    if probability >= thresholds.spam:
        return Decision.SPAM, probability >= thresholds.discard
    if probability >= thresholds.unsure:
        return Decision.UNSURE, False
    return Decision.HAM, False
