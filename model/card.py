"""The model card: what a model was trained on, how, how well, and which file it is."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from model.decision import Thresholds
from model.errors import ModelCardError

CARD_FILE = "card.json"


@dataclass(frozen=True)
class ModelCard:
    """Metadata saved as `card.json` beside every artifact."""

    version: str
    created_at: str
    artifact_file: str
    artifact_sha256: str
    feature_version: int
    thresholds: Thresholds
    threshold_method: str
    environment: dict[str, str]
    sources: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    licences: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """Serialise the card as indented JSON."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str, origin: str = "card") -> ModelCard:
        """Parse a card; raise ModelCardError naming `origin` when it is not a valid card."""
        try:
            data = json.loads(text)
            data["thresholds"] = Thresholds(**data["thresholds"])
            return cls(**data)
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelCardError(f"{origin}: not a valid model card ({exc})") from exc
