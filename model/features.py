"""How a comment (Akismet's field names) becomes model input: normalised text plus signal tokens.

The pipeline sees a three-column object array: the normalised comment text, then two
space-separated lists of signals: those of the text (``links=2``, ``phone_number``) and those of
its author (``author_url_tld=shop``, ``agent=scripted``). Keeping signals as plain tokens lets the
fitted pipeline stay pure scikit-learn.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping

import numpy as np

from model.text import find_urls, normalise_text, url_host

# Akismet's comment fields, in the order the API documents them.
COMMENT_FIELDS = (
    "comment_content",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "user_ip",
    "user_agent",
    "referrer",
    "permalink",
    "comment_type",
    "blog_lang",
)
# Bump when comment_to_row changes: a model trained on other features must not load.
FEATURE_VERSION = 2
TEXT_COLUMN = 0
CONTENT_SIGNAL_COLUMN = 1
AUTHOR_SIGNAL_COLUMN = 2

Comment = Mapping[str, str]

_FREEMAIL = frozenset(
    "gmail.com googlemail.com yahoo.com hotmail.com outlook.com live.com aol.com icloud.com "
    "mail.ru yandex.ru gmx.de gmx.net web.de protonmail.com proton.me qq.com 163.com".split()
)
_SHORTENERS = frozenset("bit.ly goo.gl tinyurl.com t.co ow.ly is.gd buff.ly cutt.ly rb.gy".split())
_SCRIPTED_AGENT_WORDS = (
    "curl wget python java/ go-http libwww okhttp httpclient scrapy headless phantomjs".split()
)
_SCRIPTED_AGENT = re.compile("|".join(_SCRIPTED_AGENT_WORDS), re.IGNORECASE)
_OLD_AGENT = re.compile(r"MSIE [5-8]\.|Windows NT 5\.|Firefox/[1-3]\.", re.IGNORECASE)
# _OLD_AGENT for lower-cased ASCII text, where ignoring case is lower-casing: faster.
_LOWER_ASCII_OLD_AGENT = re.compile(r"msie [5-8]\.|windows nt 5\.|firefox/[1-3]\.")
_DIGIT = re.compile(r"\d")  # _PHONE and _MONEY match nothing without one
# What every _MONEY match in ASCII text contains, lower-cased: `$` or a currency code.
_ASCII_MONEY_HINT = re.compile(r"\$|usd|eur|gbp|btc")
_ASCII_LETTERS = string.ascii_letters.encode()
_ASCII_CAPITALS = string.ascii_uppercase.encode()
_ASCII_DIGITS = string.digits.encode()
_PHONE = re.compile(r"(?:\+?\d[\d ().-]{7,}\d)")
_MONEY = re.compile(r"[$£€¥₹]\s?\d|\d\s?(?:(?:usd|eur|gbp|btc)\b|[$£€¥₹])", re.IGNORECASE)
_EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+")  # anchored: no quadratic scan
_WORD = re.compile(r"[^\W\d_]{3,}")
_SCRIPTS = (
    ("cyrillic", re.compile(r"[\u0400-\u04ff]")),
    ("cjk", re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")),
    ("arabic", re.compile(r"[\u0600-\u06ff]")),
    ("greek", re.compile(r"[\u0370-\u03ff]")),
    ("thai", re.compile(r"[\u0e00-\u0e7f]")),
    ("devanagari", re.compile(r"[\u0900-\u097f]")),
)


def _bucket(value: int, edges: Iterable[int]) -> str:
    """Name the bucket of `value`: the first edge it is below, else the last edge with `+`."""
    last = 0
    for edge in edges:
        if value < edge:
            return str(last) if edge - last == 1 else f"{last}-{edge - 1}"
        last = edge
    return f"{last}+"


def _tld(host: str) -> str:
    return host.rsplit(".", 1)[-1] if "." in host else ""


# Reserved and placeholder names (RFC 2606) say nothing about who wrote a comment.
_UNINFORMATIVE_HOST_WORDS = frozenset("www example test invalid localhost".split())


def _host_words(host: str) -> list[str]:
    """Words inside a host name (`cheap-meds-rx24.shop` gives `cheap`, `meds`)."""
    labels = host.split(".")[:-1]
    words = (w for label in labels for w in _WORD.findall(label.lower()))
    return [w for w in words if w not in _UNINFORMATIVE_HOST_WORDS]


def _letters(text: str) -> int:
    """How many characters of `text` are letters."""
    if text.isascii():  # ASCII's letters are a-z and A-Z: delete them and count the gap
        return len(text) - len(text.encode().translate(None, _ASCII_LETTERS))
    return sum(map(str.isalpha, text))


def _capitals(text: str) -> int:
    """How many characters of `text` are upper-case letters."""
    if text.isascii():
        return len(text) - len(text.encode().translate(None, _ASCII_CAPITALS))
    return sum(map(str.isupper, text))


def _numbers_to_look_for(text: str) -> tuple[bool, bool]:
    """Whether `text` may hold a phone number, and whether it may hold an amount of money.

    A phone number has nine digits or more and an amount at least one; in ASCII text, an
    amount also needs a `$` or a currency code (ignoring case is lower-casing there).
    """
    if not text.isascii():
        digits = _DIGIT.search(text) is not None
        return digits, digits
    # ASCII's digits are 0-9: delete them and count the gap.
    count = len(text) - len(text.encode().translate(None, _ASCII_DIGITS))
    if not count:
        return False, False
    lowered = text.lower()
    return count >= 9, _ASCII_MONEY_HINT.search(lowered) is not None


def _host_signals(hosts: set[str]) -> list[str]:
    """The links' top-level domains, in order, then `link_shortener` if one is a shortener."""
    signals = sorted(f"link_tld={_tld(h)}" for h in hosts if _tld(h))
    if hosts & _SHORTENERS:
        signals.append("link_shortener")
    return signals


def content_signals(text: str) -> list[str]:
    """Signals of the comment text itself: links, length, shouting, numbers, script."""
    urls = find_urls(text)
    # Only present things become signals: an absent link or a usual length says little, and a
    # token for it would push every link-less comment towards ham.
    signals = [f"links={_bucket(len(urls), (1, 2, 3, 6))}"] if urls else []
    if len(text) >= 1000:
        signals.append("very_long")
    if urls:  # most comments have none: their hosts need no set, sort or look-up
        signals += _host_signals({url_host(u) for u in urls})
    letters = _letters(text)
    if letters >= 12 and _capitals(text) > 0.6 * letters:
        signals.append("shouting")
    if text.count("!") >= 3:
        signals.append("many_exclamations")
    phone, money = _numbers_to_look_for(text)
    # Nine digits or more: dates such as 2023-01-15 have only eight.
    if phone and any(sum(c.isdigit() for c in m.group(0)) >= 9 for m in _PHONE.finditer(text)):
        signals.append("phone_number")
    if money and _MONEY.search(text):
        signals.append("money_amount")
    if "@" in text and _EMAIL_IN_TEXT.search(text):  # no `@`, no address: spare the pattern
        signals.append("email_in_text")
    if not text.isascii():
        # Each script's pattern is one character class: its distinct characters will do.
        distinct = "".join(set(text))
        signals += [f"script={name}" for name, pattern in _SCRIPTS if pattern.search(distinct)]
    return signals


# A site sees the same few user agents over and over: each is read once per process.
@functools.lru_cache(maxsize=4096)
def _agent_signal(agent: str) -> str | None:
    """`agent=scripted` for a scripting tool or library, `agent=outdated` for an old browser."""
    if not agent.isascii():
        if _SCRIPTED_AGENT.search(agent):
            return "agent=scripted"
        return "agent=outdated" if _OLD_AGENT.search(agent) else None
    # In ASCII, ignoring case is lower-casing: substring tests and a pattern without the flag.
    lowered = agent.lower()
    if any(word in lowered for word in _SCRIPTED_AGENT_WORDS):
        return "agent=scripted"
    return "agent=outdated" if _LOWER_ASCII_OLD_AGENT.search(lowered) else None


def author_signals(comment: Comment) -> list[str]:
    """Signals of who wrote it: name shape, email and URL domains, user agent, comment type."""
    signals: list[str] = []
    author = normalise_text(comment.get("comment_author", "") or "")
    if author:
        words = author.split()
        signals.append(f"author_words={_bucket(len(words), (1, 2, 3, 4, 6))}")
        if any(map(str.isdigit, author)):
            signals.append("author_has_digits")
        if find_urls(author):
            signals.append("author_is_link")
        signals += sorted({f"author_word={w.lower()}" for w in _WORD.findall(author)})
    email = (comment.get("comment_author_email", "") or "").strip().lower()
    if "@" in email:
        domain = email.rsplit("@", 1)[1]
        if domain in _FREEMAIL:
            signals.append("email_freemail")
        elif _tld(domain):
            signals.append(f"email_tld={_tld(domain)}")
    url = (comment.get("comment_author_url", "") or "").strip()
    if url:
        host = url_host(url)
        signals += [f"author_url_tld={_tld(host)}"] if _tld(host) else []
        signals += sorted({f"author_url_word={w}" for w in _host_words(host)})
        if "@" in email and email.rsplit("@", 1)[1] == host:
            signals.append("email_matches_url")
    agent = (comment.get("user_agent", "") or "").strip()
    agent_signal = _agent_signal(agent) if agent else None
    if agent_signal:
        signals.append(agent_signal)
    kind = (comment.get("comment_type", "") or "").strip().lower()
    if kind and kind != "comment":
        signals.append(f"type={kind}")
    return signals


def comment_to_row(comment: Comment) -> tuple[str, str, str]:
    """Turn one comment into the pipeline's row: text, content signals, author signals."""
    text = normalise_text(comment.get("comment_content", "") or "")
    return text, " ".join(content_signals(text)), " ".join(author_signals(comment))


def comments_to_matrix(comments: Iterable[Comment]) -> np.ndarray:
    """Turn comments into the pipeline's object array, one row per comment."""
    rows = [comment_to_row(c) for c in comments]
    matrix = np.empty((len(rows), 3), dtype=object)
    for i, row in enumerate(rows):
        matrix[i, :] = row
    return matrix
