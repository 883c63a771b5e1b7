"""Text normalisation shared by training and scoring: the one place raw text is cleaned."""

from __future__ import annotations

import html
import re
import unicodedata

# Zero-width and byte-order characters that spammers (and YouTube's export) sprinkle in text.
_INVISIBLE_CHARACTERS = "\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARACTERS), None)
_ANY_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARACTERS}]")
_ANCHOR = re.compile(r"""<a\b[^<>]*?\bhref\s*=\s*["']?([^"'\s<>]+)["']?[^<>]*>""", re.IGNORECASE)
_BBCODE_URL = re.compile(r"\[url=([^\[\]\s]+)\]", re.IGNORECASE)
_BBCODE_TAG = re.compile(r"\[/?(?:url|b|i|u|img|link)\]", re.IGNORECASE)
_BREAK = re.compile(r"<\s*(?:br|p|div|li)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\n\s*\n+")
# Every pattern here runs on text an attacker writes: none may backtrack more than linearly
# (no unbounded repeat that can run past the next delimiter; see tests/model/test_text.py).
_TLDS = (
    r"""(?:com|net|org|info|biz|ru|xyz|top|shop|online|site|co|io|me|us|uk|de|cn|in|tk|ml|ga|win|"""
    r"""bid|club|store|live|pro|cc|ly|gl)"""
)
URL_PATTERN = re.compile(
    r"""(?:https?://|www\.)[^\s<>"'\]\[)]+|"""
    r"""\b(?:[a-z0-9][a-z0-9-]{0,62}\.){1,8}"""
    rf"""{_TLDS}(?:\.[a-z]{{2}})?\b(?:/[^\s<>"']*)?""",
    re.IGNORECASE,
)
# What every URL_PATTERN match contains: a scheme's `://`, `www.`, or a dot before a known
# top-level domain. Far cheaper to look for, and most comments have none of them.
_URL_HINT = re.compile(rf"://|www\.|\.{_TLDS}", re.IGNORECASE)
# For ASCII text, where ignoring case is lower-casing, the same patterns without the flag run
# faster on the lower-cased text (and the hint then starts with a character to skip to).
_LOWER_ASCII_URL_PATTERN = re.compile(URL_PATTERN.pattern)
_LOWER_ASCII_DOMAIN_HINT = re.compile(rf"\.{_TLDS}")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_PATH_START = re.compile(r"[/?#]")


def normalise_text(raw: str) -> str:
    """Unfold HTML, drop invisible characters, apply NFKC and tidy white space.

    Anchors keep their link target as text, so a hidden link still counts as a link.
    """
    text = _without_invisible(raw)
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
        text = _without_invisible(unicodedata.normalize("NFKC", text))
    if _has_foldable_spaces(text):  # else _SPACES would replace single spaces with themselves
        text = _SPACES.sub(" ", text)
    if "\n" not in text:  # one line: nothing for _NEWLINES, one line to strip
        return text.strip()
    text = _NEWLINES.sub("\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _without_invisible(text: str) -> str:
    """`text` without the invisible characters; looking for them is cheaper than translating."""
    if text.isascii() or not _ANY_INVISIBLE.search(text):  # all beyond ASCII
        return text
    return text.translate(_INVISIBLE)


def _has_foldable_spaces(text: str) -> bool:
    """Whether `text` has two spaces in a row, or a tab, return, form feed or vertical tab."""
    return "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text


def find_urls(text: str) -> list[str]:
    """Return the URLs and bare domains in normalised text, in order."""
    if not text.isascii():
        if not _URL_HINT.search(text):
            return []
        return [m.group(0).rstrip(".,;:!?") for m in URL_PATTERN.finditer(text)]
    lowered = text.lower()
    if not ("://" in lowered or "www." in lowered or _LOWER_ASCII_DOMAIN_HINT.search(lowered)):
        return []
    # Same length, same places: cut each URL from the original text, its case kept.
    found = _LOWER_ASCII_URL_PATTERN.finditer(lowered)
    return [text[m.start() : m.end()].rstrip(".,;:!?") for m in found]


def url_host(url: str) -> str:
    """Return the lower-case host of a URL or bare domain, without `www.` or a port."""
    host = _SCHEME.sub("", url.strip().lower())
    host = _PATH_START.split(host, maxsplit=1)[0]
    # Drop any `user:password@` first: `http://bank.com:x@evil.example/` is evil.example's.
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host.removeprefix("www.")
