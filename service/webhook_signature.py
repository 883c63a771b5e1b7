"""Webhook signatures: HMAC-SHA256 over `{timestamp}.{body}`, sent as `t=<unix>,v1=<hex>`.

The scheme is Stripe's: the timestamp is signed with the body, so a receiver that rejects old
timestamps also rejects a captured request replayed later. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Spamward-Signature"
EVENT_ID_HEADER = "X-Spamward-Event-Id"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """A webhook request must not be trusted; the subclass says why."""


class SignatureHeaderMalformed(InvalidSignature):
    """The signature header is missing or is not `t=<unix>,v1=<hex>`."""


class SignatureTimestampOutsideTolerance(InvalidSignature):
    """The signed timestamp is too far from now: a replay, or a badly wrong clock."""


class SignatureMismatch(InvalidSignature):
    """No v1 signature in the header matches the body under this secret."""


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(secret: str, timestamp: int, body: bytes | str) -> str:
    """Return the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`."""
    message = f"{timestamp}.".encode() + _bytes(body)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes | str) -> str:
    """Return the X-Spamward-Signature value for a body sent at `timestamp`."""
    return f"t={timestamp},{SCHEME}={sign(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureHeaderMalformed(
            f"expected {SIGNATURE_HEADER}: t=<unix seconds>,{SCHEME}=<hex>, got {header[:100]!r}"
        )
    return timestamp, signatures


def verify(
    secret: str,
    header: str | None,
    body: bytes | str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a received webhook's signature header against its raw body; return its timestamp.

    Pass the body exactly as received (bytes), before any JSON parsing. Several `v1=` entries
    are allowed (any one matching is enough), which lets a secret be rotated without a gap.

    :raises SignatureHeaderMalformed: when the header is missing or unreadable
    :raises SignatureTimestampOutsideTolerance: when the timestamp is more than `tolerance`
        seconds away from `now` (default: the current time)
    :raises SignatureMismatch: when no signature matches
    """
    timestamp, signatures = _parse(header or "")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureTimestampOutsideTolerance(
            f"signed at {timestamp}, {abs(current - timestamp):.0f} s from now "
            f"(tolerance {tolerance:.0f} s)"
        )
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureMismatch("the signature does not match the body under this secret")
    return timestamp
