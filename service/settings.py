"""Settings from SPAMWARD_* environment variables (and an optional TOML file), parsed strictly.

A bad value stops the start with a message naming the variable and the form it expects.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model import DEFAULT_MODEL_DIR, ThresholdError, Thresholds

PREFIX = "SPAMWARD_"
CONFIG_FILE = "spamward.toml"


class ConfigError(Exception):
    """A setting has a value the service cannot start with."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, checked at start."""

    database_url: str
    model_dir: Path
    max_content_bytes: int = 64 * 1024
    max_batch: int = 1000
    # None: use the thresholds in the model's card.
    thresholds: Thresholds | None = None
    secret_key: str = ""
    # How long a process trusts its cached copy of a site's key, thresholds and rules.
    site_cache_seconds: float = 2.0
    # Store Akismet checks from a background thread, many per transaction.
    write_behind: bool = True
    # How long that thread gathers rows after the first before storing them in one transaction.
    write_window_seconds: float = 0.05
    # Answer plain comment-checks beneath Flask (service.fast_lane); false sends all to Flask.
    fast_lane: bool = True
    # How often a process looks for a newly promoted model (0: never; tests switch by hand).
    model_poll_seconds: float = 2.0
    # Deliver queued webhook events from a background thread in each process.
    webhooks: bool = True
    # Session cookies only over HTTPS; `serve --dev` and the tests turn it off.
    secure_cookies: bool = True
    # Where login attempts are counted: memory:// is per process (see the README).
    ratelimit_storage_uri: str = "memory://"


def _number(
    convert: Callable[[str], float], low: float, high: float, expected: str
) -> Callable[[str, str], Any]:
    """A parser for numbers in [low, high]; `expected` names the form in the error."""

    def parse(name: str, raw: str) -> Any:
        try:
            value = convert(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise ConfigError(f"{PREFIX}{name}: expected {expected}, got {raw!r}")
        return value

    return parse


_positive_int = _number(int, 1, float("inf"), "a positive whole number")
_probability = _number(float, 0.0, 1.0, "a number from 0 to 1")
_seconds = _number(float, 0.0, 3600.0, "seconds from 0 to 3600")
# A longer window would hold many seconds of checks in memory, lost on a hard kill.
_window = _number(float, 0.0, 5.0, "seconds from 0 to 5")


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("1", "0", "true", "false", "yes", "no"):
        raise ConfigError(f"{PREFIX}{name}: expected true or false, got {raw!r}")
    return value in ("1", "true", "yes")


def _database_url(name: str, raw: str) -> str:
    if not raw.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")):
        raise ConfigError(
            f"{PREFIX}{name}: expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, "
            f"got {raw!r}"
        )
    return raw.replace("postgresql://", "postgresql+psycopg://", 1)


def _storage_uri(name: str, raw: str) -> str:
    scheme, sep, _ = raw.partition("://")
    if not sep or not scheme:
        raise ConfigError(
            f"{PREFIX}{name}: expected a storage URI such as memory:// or redis://HOST:6379, "
            f"got {raw!r}"
        )
    return raw


def _model_dir(name: str, raw: str) -> Path:
    path = Path(raw)
    if not (path / "card.json").is_file():
        raise ConfigError(f"{PREFIX}{name}: expected a model folder holding card.json, got {raw!r}")
    return path


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "DATABASE_URL": _database_url,
    "MODEL_DIR": _model_dir,
    "MAX_CONTENT_BYTES": _positive_int,
    "MAX_BATCH": _positive_int,
    "UNSURE_THRESHOLD": _probability,
    "SPAM_THRESHOLD": _probability,
    "DISCARD_THRESHOLD": _probability,
    "SECRET_KEY": lambda name, raw: raw,
    "SITE_CACHE_SECONDS": _seconds,
    "WRITE_BEHIND": _flag,
    "WRITE_WINDOW_SECONDS": _window,
    "FAST_LANE": _flag,
    "MODEL_POLL_SECONDS": _seconds,
    "WEBHOOKS": _flag,
    "SECURE_COOKIES": _flag,
    "RATELIMIT_STORAGE_URI": _storage_uri,
}


# SPAMWARD_* variables read by the tests, benchmarks and commands, not by the service.
_OTHER_TOOLS = frozenset(
    {"CORPORA", "REQUIRE_CORPORA", "REQUIRE_BROWSER", "TEST_POSTGRES", "RETRAIN_ACTOR"}
)


def _read_file(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable TOML file ({exc})") from exc
    unknown = sorted(k for k in data if k.upper() not in _PARSERS)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {unknown}; known: {sorted(_PARSERS)}")
    return {k.upper(): str(v) for k, v in data.items()}


def _thresholds(values: Mapping[str, Any], card_default: bool) -> Thresholds | None:
    names = ("UNSURE_THRESHOLD", "SPAM_THRESHOLD", "DISCARD_THRESHOLD")
    given = [n for n in names if n in values]
    if not given:
        return None
    if len(given) != 3 and card_default:
        raise ConfigError(f"set all three of {', '.join(PREFIX + n for n in names)}, or none")
    try:
        return Thresholds(*(values[n] for n in names))
    except ThresholdError as exc:
        raise ConfigError(f"{PREFIX}*_THRESHOLD: {exc}") from exc


def load_settings(instance_path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings: defaults, then `<instance>/spamward.toml`, then SPAMWARD_* variables."""
    environ = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    if (instance_path / CONFIG_FILE).is_file():
        raw.update(_read_file(instance_path / CONFIG_FILE))
    from_env = {k[len(PREFIX) :]: v for k, v in environ.items() if k.startswith(PREFIX)}
    unknown = sorted(set(from_env) - set(_PARSERS) - _OTHER_TOOLS)
    if unknown:
        # A typo must not silently fall back to a default.
        raise ConfigError(
            f"unknown settings {[PREFIX + u for u in unknown]}; "
            f"known: {sorted(PREFIX + n for n in _PARSERS)}"
        )
    raw.update({k: v for k, v in from_env.items() if k in _PARSERS})
    values = {name: _PARSERS[name](name, value) for name, value in raw.items()}
    default_db = f"sqlite:///{instance_path / 'spamward.sqlite'}"
    return Settings(
        database_url=values.get("DATABASE_URL", default_db),
        model_dir=values.get("MODEL_DIR", DEFAULT_MODEL_DIR),
        max_content_bytes=values.get("MAX_CONTENT_BYTES", 64 * 1024),
        max_batch=values.get("MAX_BATCH", 1000),
        thresholds=_thresholds(values, card_default=True),
        secret_key=values.get("SECRET_KEY", ""),
        site_cache_seconds=values.get("SITE_CACHE_SECONDS", 2.0),
        write_behind=values.get("WRITE_BEHIND", True),
        write_window_seconds=values.get("WRITE_WINDOW_SECONDS", 0.05),
        fast_lane=values.get("FAST_LANE", True),
        model_poll_seconds=values.get("MODEL_POLL_SECONDS", 2.0),
        webhooks=values.get("WEBHOOKS", True),
        secure_cookies=values.get("SECURE_COOKIES", True),
        ratelimit_storage_uri=values.get("RATELIMIT_STORAGE_URI", "memory://"),
    )
