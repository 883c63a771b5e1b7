"""API keys: random, shown once, stored as a SHA-256 hash.

Keys are 128 random bits, so a fast hash is enough (no password KDF needed): nobody can guess
a key from its hash. Hex keys are valid DNS labels, for the `{key}.host` form.
"""

from __future__ import annotations

import hashlib
import secrets


def new_key() -> str:
    """Return a fresh API key (32 lower-case hex characters)."""
    return secrets.token_hex(16)


def hash_key(key: str) -> str:
    """Return the stored form of a key."""
    return hashlib.sha256(key.strip().encode("utf-8", "surrogateescape")).hexdigest()


def key_hint(key: str) -> str:
    """Return the first characters of a key, safe to show in lists."""
    return key[:6]
