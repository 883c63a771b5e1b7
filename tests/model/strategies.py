"""Hypothesis strategies for comment-like text: the inputs the property tests compare on."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

# Pieces that reach every branch of normalisation and of the signals: links, digits, money,
# emails, markup, odd white space, invisible characters and non-Latin scripts.
FRAGMENTS = [
    "http://bit.ly/x",
    "https://www.Cheap-Pills.example.shop/buy?x=1",
    "www.example.com",
    "WWW.QQ/page",  # www. without a known top-level domain
    "cheap-meds-rx24.shop",
    "sub.domain.co.uk/path.",
    "http://localhost/admin",
    "ftp://files.example.org",
    "http://user:pw@evil.example.ru:8080/",
    "+1 555 0199 2211",
    "(555) 123-4567",
    "2023-01-15",
    "07700900123",
    "$500",
    "$ 5",
    "£20",
    "€10",
    "¥3",
    "₹99",
    "500$",
    "100€",
    "50 usd",
    "0.5 btc",
    "20 EUR",
    "12 GBP",
    "john.doe+x@example.com",
    "a@b.c",
    "@john",
    "x@y",
    '<a href="http://x.example.ru">hi</a>',
    "<a rel='nofollow' href='https://y.example.org/p'>y</a>",
    "<br />",
    "<p>para</p>",
    "<b>bold</b>",
    "&amp;",
    "&amp;#39;",
    "&lt;br /&gt;",
    "&nbsp;",
    "[url=http://cheap.example.biz]pills[/url]",
    "[b]x[/b]",
    "[img]",
    "BUY NOW!!!",
    "OK LOL WOW",
    "\u0391\u03a3 \u03a3\u0391 \u03c2 \u03c3",  # Greek capital and final sigma
    "Купить дешево",
    "中文评论",
    "日本語のテキスト",
    "한국어",
    "مرحبا",
    "Ελληνικά",
    "ภาษาไทย",
    "हिन्दी",
    "Ünïcödé ﬁne \uff57\uff49\uff44\uff45 ß İ \u017f \u212a",  # ligature, wide, long s, Kelvin
    "\ufeff\u200b\u00ad",
    "&am\u00adp;",  # invisible characters inside markup: dropped before it is read
    "<b\u200b>x</b>",
    "١٢٣٤٥٦٧٨٩٠",
    "curl/8.0",
    "python-requests",
    "MSIE 6.0",
    "Windows NT 5.1",
    "Firefox/3.6",
    "x" * 40,
]
SPACES = [" ", "  ", "\n", "\n\n", "\t", "\r\n", "\u00a0", "\u2003", "\u3000", "\x1c", "\x0b"]
CHARACTERS = st.characters(codec="utf-8", exclude_categories=["Cs"])


def pieces(sentences: Sequence[str] = (), ascii_only: bool = False) -> st.SearchStrategy[str]:
    """One fragment, white space, short random text, or one of `sentences`."""
    choices = [
        st.sampled_from([f for f in FRAGMENTS if f.isascii() or not ascii_only]),
        st.sampled_from([s for s in SPACES if s.isascii() or not ascii_only]),
        st.text(st.characters(codec="ascii") if ascii_only else CHARACTERS, max_size=12),
        st.text("aA1.:/-_@$<>[]&;!? \n", max_size=12),
        st.text("0123456789 ().-+$", max_size=16),
        st.text("uUsSdDeErRgGbBpPtTcC0123456789 ", max_size=10),
    ]
    if sentences:
        choices.append(st.sampled_from(sentences))
    return st.one_of(choices)


def comment_texts(max_pieces: int = 30, sentences: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Text made of fragments, white space, random characters and sentences, in any order.

    Half of it is plain ASCII, which takes the shortcuts that only hold for ASCII.
    """
    return st.one_of(
        st.lists(pieces(sentences), max_size=max_pieces).map("".join),
        st.lists(pieces(sentences, ascii_only=True), max_size=max_pieces).map("".join),
    )


def comments(sentences: Sequence[str] = ()) -> st.SearchStrategy[dict[str, str]]:
    """Comments with Akismet's field names, any of them missing, empty or odd.

    Real `sentences` make known tokens common, and with them ties between equal weights.
    """
    field = st.one_of(st.just(""), comment_texts(6))
    return st.fixed_dictionaries(
        {},
        optional={
            "comment_content": comment_texts(sentences=sentences),
            "comment_author": field,
            "comment_author_email": st.one_of(field, st.sampled_from(EMAILS)),
            "comment_author_url": st.one_of(field, st.sampled_from(FRAGMENTS[:8])),
            "user_agent": st.one_of(field, st.sampled_from(AGENTS)),
            "comment_type": st.one_of(field, st.sampled_from(["comment", "Pingback ", "REPLY"])),
        },
    )


EMAILS = ["someone@gmail.com", "X@Mail.RU", " a@yandex.ru ", "anna@annabakes.com", "no at sign"]
AGENTS = [
    "curl/8.4.0",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "MSIE 6.0 via python-urllib",
    "\u017fcrapy/2.0",  # long s: matches `s` ignoring case
    "HEADLESSCHROME",
]
