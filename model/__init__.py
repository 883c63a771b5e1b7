"""Spamward's model: how comments become features, and how a trained model is saved, loaded
and scored. Imports scikit-learn and joblib, never Flask."""

from model.card import ModelCard
from model.decision import Decision, Thresholds, decide
from model.errors import (
    ModelCardError,
    ModelError,
    ModelIntegrityError,
    ModelNotFoundError,
    ModelVersionError,
    ThresholdError,
)
from model.features import COMMENT_FIELDS, Comment, comment_to_row, comments_to_matrix
from model.scorer import Contribution, Explanation, FastScorer
from model.spam_model import DEFAULT_MODEL_DIR, SpamModel, Verdict

__all__ = [
    "COMMENT_FIELDS",
    "DEFAULT_MODEL_DIR",
    "Comment",
    "Contribution",
    "Decision",
    "Explanation",
    "FastScorer",
    "ModelCard",
    "ModelCardError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ModelVersionError",
    "SpamModel",
    "ThresholdError",
    "Thresholds",
    "Verdict",
    "comment_to_row",
    "comments_to_matrix",
    "decide",
]
