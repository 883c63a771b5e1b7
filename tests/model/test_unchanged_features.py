"""The sped-up text and feature functions give exactly what the frozen copies of the old ones give.

comment_to_row's output is what models are trained on, so any change would change trained
models: these property tests compare each function with its copy in reference_text.py and
reference_features.py on generated text full of links, digits, money, emails, markup, odd
white space and non-Latin scripts. The facts about ASCII that the shortcuts rest on are checked
on every ASCII character.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings

from model import features, text
from tests.model import reference_features, reference_text
from tests.model.strategies import FRAGMENTS, comment_texts, comments

ASCII = [chr(c) for c in range(128)]


@settings(max_examples=1000, deadline=None)
@given(raw=comment_texts(60))
def test_normalise_text_is_unchanged(raw: str) -> None:
    assert text.normalise_text(raw) == reference_text.normalise_text(raw)


@settings(max_examples=1000, deadline=None)
@given(raw=comment_texts(60))
def test_find_urls_is_unchanged(raw: str) -> None:
    normalised = reference_text.normalise_text(raw)
    assert text.find_urls(raw) == reference_text.find_urls(raw)
    assert text.find_urls(normalised) == reference_text.find_urls(normalised)


@settings(max_examples=300, deadline=None)
@given(raw=comment_texts(4))
def test_url_host_is_unchanged(raw: str) -> None:
    for url in [raw, *FRAGMENTS[:8]]:
        assert text.url_host(url) == reference_text.url_host(url)


@settings(max_examples=1000, deadline=None)
@given(raw=comment_texts(60))
def test_content_signals_are_unchanged(raw: str) -> None:
    normalised = reference_text.normalise_text(raw)
    assert features.content_signals(raw) == reference_features.content_signals(raw)
    assert features.content_signals(normalised) == reference_features.content_signals(normalised)


@settings(max_examples=1000, deadline=None)
@given(comment=comments())
def test_author_signals_are_unchanged(comment: dict[str, str]) -> None:
    assert features.author_signals(comment) == reference_features.author_signals(comment)


@settings(max_examples=1000, deadline=None)
@given(comment=comments())
def test_comment_to_row_is_unchanged(comment: dict[str, str]) -> None:
    assert features.comment_to_row(comment) == reference_features.comment_to_row(comment)


@pytest.mark.parametrize(
    "text_of_the_signal",
    ["CALL +1 555 0199 2211 NOW FOR $500!!! http://bit.ly/x", "earn 20 EUR", "a@b.example.com"],
)
def test_the_examples_reach_the_shortcuts_signals(text_of_the_signal: str) -> None:
    # The generated text does reach the signals the shortcuts skip to.
    assert features.content_signals(text_of_the_signal)


def test_ascii_letters_capitals_and_digits_are_what_the_shortcuts_delete() -> None:
    assert [c for c in ASCII if c.isalpha()] == sorted(string.ascii_letters)
    assert [c for c in ASCII if c.isupper()] == sorted(string.ascii_uppercase)
    assert [c for c in ASCII if c.isdigit()] == list(string.digits)
    assert [c for c in ASCII if re.fullmatch(r"\d", c)] == list(string.digits)


def test_ignoring_case_on_ascii_text_is_lower_casing() -> None:
    # For the agent, money and URL shortcuts: an ASCII pattern letter matches an ASCII
    # character ignoring case exactly when the character lower-cases to it.
    for letter in string.ascii_lowercase:
        matched = [c for c in ASCII if re.fullmatch(letter, c, re.IGNORECASE)]
        assert matched == [c for c in ASCII if c.lower() == letter]


def test_the_invisible_characters_are_all_outside_ascii() -> None:
    assert all(code >= 128 for code in text._INVISIBLE)
