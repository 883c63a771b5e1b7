"""Reading Akismet's form: the quick pair splitter gives exactly what parse_qsl gives."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_to_bytes, urlencode

from hypothesis import given
from hypothesis import strategies as st

from service.akismet_api import form_pairs, percent_decoded

# Form syntax, percent-escapes (valid UTF-8, stray bytes, split sequences) and plain text.
_PIECES = st.sampled_from(
    [
        *("&", "=", "+", "%", "%2", "%26", "%3D", "%2B", "%C3%A9", "%C3", "%A9", "%E2%9C%93"),
        *("%FF", "%0A", "%25", "a", "comment_content", "[]", " ", "é", "✓", "\n", "%00", "\x00"),
        # What the C unquoting turns %XX into, and codec escapes it must leave alone.
        *("\\", "\\x41", "\\u00e9", "\\N{DASH}", "%5C", "%5Cx41", "%g1", "%%41", "%4", "x"),
    ]
)
_FORMS = st.lists(_PIECES, max_size=30).map("".join)


# Both refuse the same forms; the reason may differ (`form_pairs` decodes the escapes of all
# parts as one run, so it can name a later byte or another cause).
REFUSED = "not UTF-8"


def _reference(text: str) -> list[tuple[str, str]] | str:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return REFUSED


def _quick(text: str) -> list[tuple[str, str]] | str:
    try:
        return form_pairs(text, "utf-8")
    except UnicodeDecodeError:
        return REFUSED


@given(_FORMS)
def test_form_pairs_equals_parse_qsl_on_any_text(text: str) -> None:
    assert _quick(text) == _reference(text)


@given(st.dictionaries(st.text(min_size=1), st.text()))
def test_form_pairs_reads_back_what_urlencode_wrote(fields: dict[str, str]) -> None:
    assert _quick(urlencode(fields)) == _reference(urlencode(fields))


def test_form_pairs_keeps_blank_values_and_order() -> None:
    assert form_pairs("a=&b&&c=1+2&a=%C3%A9", "utf-8") == [
        ("a", ""),
        ("b", ""),
        ("c", "1 2"),
        ("a", "é"),
    ]


@given(st.binary())
def test_percent_decoded_equals_unquote_to_bytes_on_any_bytes(raw: bytes) -> None:
    assert percent_decoded(raw) == unquote_to_bytes(raw)


@given(st.lists(st.sampled_from([b"%", b"%4", b"%41", b"%e9", b"\\", b"\\x", b"x", b"\xff"])))
def test_percent_decoded_equals_unquote_to_bytes_on_escapes(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    assert percent_decoded(raw) == unquote_to_bytes(raw)
