"""Webhook signatures as a receiver checks them: pure functions, no database."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.webhook_signature import (
    SignatureHeaderMalformed,
    SignatureMismatch,
    SignatureTimestampOutsideTolerance,
    sign,
    signature_header,
    verify,
)

SECRET = "whsec_alice_0123456789abcdef"
BODY = b'{"event":"comment.moderated","comment_id":7}'
NOW = 1_800_000_000


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == expected
    assert sign(SECRET, NOW, BODY.decode()) == expected
    assert signature_header(SECRET, NOW, BODY) == f"t={NOW},v1={expected}"


def test_a_fresh_signature_verifies_and_gives_its_timestamp() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert verify(SECRET, header, BODY, tolerance=300, now=NOW + 299) == NOW


def test_a_wrong_secret_fails() -> None:
    header = signature_header("whsec_mallory_guessed_secret", NOW, BODY)
    with pytest.raises(SignatureMismatch):
        verify(SECRET, header, BODY, now=NOW)


def test_a_changed_body_fails() -> None:
    header = signature_header(SECRET, NOW, BODY)
    with pytest.raises(SignatureMismatch):
        verify(SECRET, header, BODY.replace(b"7", b"8"), now=NOW)


def test_a_replayed_timestamp_changed_by_mallory_fails() -> None:
    signature = sign(SECRET, NOW, BODY)
    with pytest.raises(SignatureMismatch):
        verify(SECRET, f"t={NOW + 3600},v1={signature}", BODY, now=NOW + 3600)


def test_an_old_request_is_refused_as_a_replay() -> None:
    header = signature_header(SECRET, NOW, BODY)
    with pytest.raises(SignatureTimestampOutsideTolerance):
        verify(SECRET, header, BODY, tolerance=300, now=NOW + 301)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", "t=soon,v1=abc", "garbage"])
def test_a_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureHeaderMalformed):
        verify(SECRET, header, BODY, now=NOW)


def test_any_of_several_signatures_may_match_during_a_secret_rotation() -> None:
    old = sign("whsec_old_secret_0123456789", NOW, BODY)
    header = f"t={NOW},v1={old},v1={sign(SECRET, NOW, BODY)}"
    assert verify(SECRET, header, BODY, now=NOW) == NOW


def _readme_verify() -> Callable[..., bool]:
    """The receiver's `verify` snippet from the README's Webhooks section, as documented."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Webhooks", 1)[1]
    snippet = next(
        block
        for block in re.findall(r"```python\n(.*?)```", section, re.S)
        if "def verify" in block
    )
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    verify_snippet: Callable[..., bool] = namespace["verify"]
    return verify_snippet


def test_the_readme_snippet_accepts_our_signature_and_refuses_a_wrong_secret() -> None:
    readme_verify = _readme_verify()
    now = int(time.time())
    header = signature_header(SECRET, now, BODY)
    assert readme_verify(SECRET, header, BODY)
    assert not readme_verify("whsec_mallory_guessed_secret", header, BODY)
    assert not readme_verify(SECRET, signature_header(SECRET, now - 301, BODY), BODY)
    assert not readme_verify(SECRET, "garbage", BODY)
