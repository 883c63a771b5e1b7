"""Tests of text normalisation, URL finding and URL hosts."""

from __future__ import annotations

import pytest

from model.text import find_urls, normalise_text, url_host

# normalise_text: HTML


def test_html_entities_are_unfolded() -> None:
    assert normalise_text("fish &amp; chips &lt;3 &quot;yum&quot;") == 'fish & chips <3 "yum"'


def test_numeric_entities_are_unfolded() -> None:
    assert normalise_text("it&#39;s &#x27;ok&#x27;") == "it's 'ok'"


def test_double_encoded_apostrophe_is_unfolded() -> None:
    assert normalise_text("don&amp;#39;t") == "don't"


def test_double_encoded_ampersand_is_unfolded() -> None:
    assert normalise_text("salt &amp;amp; pepper") == "salt & pepper"


def test_br_tag_becomes_a_line_break() -> None:
    assert normalise_text("first<br />second") == "first\nsecond"


def test_br_tag_without_slash_becomes_a_line_break() -> None:
    assert normalise_text("first<BR>second") == "first\nsecond"


def test_paragraph_tags_become_line_breaks() -> None:
    assert normalise_text("<p>one</p><p>two</p>") == "one\ntwo"


def test_encoded_br_tag_becomes_a_line_break() -> None:
    assert normalise_text("first&lt;br /&gt;second") == "first\nsecond"


def test_anchor_keeps_its_url_and_its_text() -> None:
    text = normalise_text('Look <a href="http://spam.example.com/buy">here</a> now')
    assert text == "Look http://spam.example.com/buy here now"


def test_anchor_with_single_quotes_and_other_attributes_keeps_its_url() -> None:
    text = normalise_text("<a rel='nofollow' href='https://x.example.org/p?q=1' class=x>x</a>")
    assert "https://x.example.org/p?q=1" in text.split()


def test_anchor_with_empty_text_still_leaves_its_url() -> None:
    assert normalise_text('<a href="http://hidden.example.ru"></a>') == "http://hidden.example.ru"


def test_html_encoded_anchor_keeps_its_url() -> None:
    text = normalise_text("&lt;a href=&quot;http://a.example.net&quot;&gt;win&lt;/a&gt;")
    assert text == "http://a.example.net win"


def test_other_tags_are_removed() -> None:
    assert normalise_text("<b>bold</b> and <i>italic</i>") == "bold and italic"


def test_tags_never_survive_normalisation() -> None:
    assert "<" not in normalise_text('<span style="color:red">red</span>')


def test_a_lone_less_than_sign_is_kept() -> None:
    assert normalise_text("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"


def test_bbcode_url_keeps_its_target() -> None:
    text = normalise_text("[url=http://cheap.example.biz]cheap pills[/url]")
    assert text.split()[0] == "http://cheap.example.biz"


def test_bbcode_url_tag_is_case_insensitive() -> None:
    assert "http://x.example.com" in normalise_text("[URL=http://x.example.com]x[/URL]").split()


# normalise_text: invisible characters and NFKC


@pytest.mark.parametrize("char", ["\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad"])
def test_invisible_characters_are_removed(char: str) -> None:
    assert normalise_text(f"v{char}ia{char}gra") == "viagra"


def test_trailing_byte_order_mark_is_removed() -> None:
    assert normalise_text("nice video\ufeff") == "nice video"


def test_fullwidth_letters_become_ascii() -> None:
    assert normalise_text("\uff46\uff52\uff45\uff45 \uff4d\uff4f\uff4e\uff45\uff59") == "free money"


def test_ligatures_are_split() -> None:
    assert normalise_text("ﬁnancial ﬂow") == "financial flow"


def test_circled_and_superscript_characters_are_folded() -> None:
    assert normalise_text("① x²") == "1 x2"


def test_composed_and_decomposed_accents_normalise_alike() -> None:
    assert normalise_text("cafe\u0301") == normalise_text("caf\u00e9") == "caf\u00e9"


def test_non_breaking_spaces_become_plain_spaces() -> None:
    assert normalise_text("a\u00a0b&nbsp;c") == "a b c"


def test_case_is_kept() -> None:
    assert normalise_text("BUY NOW") == "BUY NOW"


# normalise_text: white space


def test_runs_of_spaces_and_tabs_collapse_to_one_space() -> None:
    assert normalise_text("a  \t  b") == "a b"


def test_blank_lines_collapse_to_one_line_break() -> None:
    assert normalise_text("a\n\n \n\nb") == "a\nb"


def test_carriage_returns_do_not_survive() -> None:
    assert "\r" not in normalise_text("a\r\nb\r\n")


def test_lines_are_stripped() -> None:
    assert normalise_text("  a  \n  b  ") == "a\nb"


def test_only_invisible_characters_and_spaces_normalise_to_empty() -> None:
    assert normalise_text(" \ufeff \u200b \n <br /> ") == ""


def test_normalising_twice_changes_nothing() -> None:
    raw = 'Hi&amp;#39; <a href="http://x.example.com">x</a><br/>\uff46\uff52\uff45\uff45 \ufeff  ok'
    once = normalise_text(raw)
    assert normalise_text(once) == once


# find_urls


def test_find_urls_finds_http_and_https_urls_in_order() -> None:
    text = "first http://a.example.com/x then https://b.example.org/y?z=1"
    assert find_urls(text) == ["http://a.example.com/x", "https://b.example.org/y?z=1"]


def test_find_urls_finds_www_urls_without_scheme() -> None:
    assert find_urls("go to www.example.com/page now") == ["www.example.com/page"]


def test_find_urls_finds_bare_domains() -> None:
    assert find_urls("visit cheap-pills.shop today") == ["cheap-pills.shop"]


def test_find_urls_finds_bare_domains_with_a_path() -> None:
    assert find_urls("see casino.win/bonus for more") == ["casino.win/bonus"]


def test_find_urls_is_case_insensitive() -> None:
    assert find_urls("VISIT WWW.EXAMPLE.COM") == ["WWW.EXAMPLE.COM"]


def test_find_urls_drops_trailing_punctuation() -> None:
    assert find_urls("Read http://example.com/page. Or example.org!") == [
        "http://example.com/page",
        "example.org",
    ]


def test_find_urls_stops_at_quotes_and_brackets() -> None:
    assert find_urls('link="http://example.com/a" [http://example.net/b]') == [
        "http://example.com/a",
        "http://example.net/b",
    ]


def test_find_urls_ignores_words_with_dots_that_are_not_domains() -> None:
    assert find_urls("version 3.11 is out. e.g. this, i.e. that. file.txt") == []


def test_find_urls_ignores_unknown_top_level_domains_without_scheme() -> None:
    assert find_urls("see readme.md and setup.py") == []


def test_find_urls_on_text_without_links_is_empty() -> None:
    assert find_urls("great video, thanks for sharing") == []


def test_find_urls_keeps_a_bare_domain_with_a_two_part_suffix_whole() -> None:
    # Known bug: the bare-domain pattern stops at the first listed TLD, so `.co.uk` gives `.co`.
    assert find_urls("order at cheap-watches.co.uk today") == ["cheap-watches.co.uk"]


# url_host


def test_url_host_drops_scheme_path_query_and_fragment() -> None:
    assert url_host("https://example.com/a/b?c=d#e") == "example.com"


def test_url_host_is_lower_case() -> None:
    assert url_host("HTTP://Example.COM/Path") == "example.com"


def test_url_host_drops_www() -> None:
    assert url_host("http://www.example.com") == "example.com"


def test_url_host_keeps_other_subdomains() -> None:
    assert url_host("http://shop.example.com") == "shop.example.com"


def test_url_host_drops_the_port() -> None:
    assert url_host("http://example.com:8080/x") == "example.com"


def test_url_host_of_a_bare_domain_is_the_domain() -> None:
    assert url_host("www.cheap-pills.shop/buy") == "cheap-pills.shop"


def test_url_host_ignores_surrounding_spaces() -> None:
    assert url_host("  https://example.org  ") == "example.org"


def test_url_host_drops_a_user_name() -> None:
    assert url_host("http://someone@evil.example.ru/login") == "evil.example.ru"


def test_url_host_drops_a_user_name_and_password() -> None:
    # Known bug: the port split runs before the `@` split, so `user:pass@host` gives `user`.
    assert url_host("http://paypal.com:secure@evil.example.ru/login") == "evil.example.ru"


def test_url_host_handles_other_schemes() -> None:
    assert url_host("ftp://files.example.net/x") == "files.example.net"


# Hostile input: every pattern must stay linear. The bound is a hang guard, not a speed goal
# (quadratic versions of these patterns took 4 to 200 seconds on the same inputs).
HOSTILE_TEXTS = {
    "dotted labels": "a." * 32768,
    "open anchors": "<a " * 20000,
    "open bbcode": "[url=" * 13000,
    "one long word": "a" * 65536,
    "addresses": "a@" * 32768,
    "dashed digits": "1-" * 32768,
}


@pytest.mark.parametrize("text", HOSTILE_TEXTS.values(), ids=HOSTILE_TEXTS.keys())
def test_hostile_64_kib_texts_are_handled_in_linear_time(text: str) -> None:
    import time

    from model.features import comment_to_row

    started = time.process_time()
    comment_to_row({"comment_content": text, "comment_author_url": text[:2048]})
    assert time.process_time() - started < 5.0
