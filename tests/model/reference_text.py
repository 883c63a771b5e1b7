"""A frozen copy of model/text.py before its speed-up: the reference the new one must match.

Do not edit: tests/model/test_unchanged_features.py checks that model/text.py gives the same
results as this copy on generated text. The original module's docstring: text normalisation
shared by training and scoring: the one place raw text is cleaned.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Zero-width and byte-order characters that spammers (and YouTube's export) sprinkle in text.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e"), None)
_ANCHOR = re.compile(r"""<a\b[^<>]*?\bhref\s*=\s*["']?([^"'\s<>]+)["']?[^<>]*>""", re.IGNORECASE)
_BBCODE_URL = re.compile(r"\[url=([^\[\]\s]+)\]", re.IGNORECASE)
_BBCODE_TAG = re.compile(r"\[/?(?:url|b|i|u|img|link)\]", re.IGNORECASE)
_BREAK = re.compile(r"<\s*(?:br|p|div|li)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\n\s*\n+")
# Every pattern here runs on text an attacker writes: none may backtrack more than linearly
# (no unbounded repeat that can run past the next delimiter; see tests/model/test_text.py).
URL_PATTERN = re.compile(
    r"""(?:https?://|www\.)[^\s<>"'\]\[)]+|"""
    r"""\b(?:[a-z0-9][a-z0-9-]{0,62}\.){1,8}"""
    r"""(?:com|net|org|info|biz|ru|xyz|top|shop|online|site|co|io|me|us|uk|de|cn|in|tk|ml|ga|win|"""
    r"""bid|club|store|live|pro|cc|ly|gl)(?:\.[a-z]{2})?\b(?:/[^\s<>"']*)?""",
    re.IGNORECASE,
)


def normalise_text(raw: str) -> str:
    """Unfold HTML, drop invisible characters, apply NFKC and tidy white space.

    Anchors keep their link target as text, so a hidden link still counts as a link.
    """
    text = raw.translate(_INVISIBLE)
    if "&" in text:
        # Unescape twice: exports often double-encode (`&amp;#39;`).
        text = html.unescape(html.unescape(text))
    if "<" in text:
        text = _ANCHOR.sub(lambda m: f" {m.group(1)} ", text)
        text = _BREAK.sub("\n", text)
        text = _TAG.sub(" ", text)
    if "[" in text:
        text = _BBCODE_URL.sub(lambda m: f" {m.group(1)} ", text)
        text = _BBCODE_TAG.sub(" ", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _SPACES.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def find_urls(text: str) -> list[str]:
    """Return the URLs and bare domains in normalised text, in order."""
    return [m.group(0).rstrip(".,;:!?") for m in URL_PATTERN.finditer(text)]


def url_host(url: str) -> str:
    """Return the lower-case host of a URL or bare domain, without `www.` or a port."""
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip().lower())
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    # Drop any `user:password@` first: `http://bank.com:x@evil.example/` is evil.example's.
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host.removeprefix("www.")
