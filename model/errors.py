"""The model package's exceptions: each name says what went wrong."""


class ModelError(Exception):
    """Base class for every error raised by the model package."""


class ModelNotFoundError(ModelError):
    """The model folder has no card, or the card names an artifact that is not there."""


class ModelCardError(ModelError):
    """A model card is not valid JSON or lacks a field the loader needs."""


class ModelIntegrityError(ModelError):
    """An artifact's sha256 differs from the one its card records."""


class ModelVersionError(ModelError):
    """An artifact was made with a scikit-learn or Spamward version this install cannot load."""


class ThresholdError(ModelError, ValueError):
    """Decision thresholds are out of range or out of order."""
