"""orjson writes the API's answers and the stored JSON: the same values as the standard library."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from service.json_codec import FastJSONProvider, stored_json

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _provider() -> FastJSONProvider:
    return FastJSONProvider(Flask(__name__))


@given(_VALUES)
def test_stored_json_reads_back_as_the_standard_librarys_text_does(value: object) -> None:
    assert json.loads(stored_json(value)) == json.loads(json.dumps(value))


@given(_VALUES)
def test_a_compact_answer_reads_back_as_the_standard_providers_does(value: object) -> None:
    provider = _provider()
    text = provider.dumps(value, separators=(",", ":"))
    assert json.loads(text) == json.loads(json.dumps(value, sort_keys=True))


def test_a_compact_answer_is_orjsons_compact_utf8_text_with_sorted_keys() -> None:
    text = _provider().dumps({"b": 1.5, "a": "Café ✓"}, separators=(",", ":"))
    assert text == '{"a":"Café ✓","b":1.5}'


def test_keys_stay_in_their_order_when_the_provider_does_not_sort() -> None:
    provider = _provider()
    provider.sort_keys = False
    assert provider.dumps({"b": 1, "a": 2}, separators=(",", ":")) == '{"b":1,"a":2}'


def test_a_date_in_an_answer_is_flasks_http_date_as_before() -> None:
    moment = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    text = _provider().dumps({"at": moment}, separators=(",", ":"))
    assert json.loads(text) == {"at": "Thu, 26 Nov 2026 15:00:00 GMT"}


def test_a_dataclass_in_an_answer_is_its_fields_as_before() -> None:
    @dataclass
    class Point:
        x: int
        y: int

    assert _provider().dumps(Point(1, 2), separators=(",", ":")) == '{"x":1,"y":2}'


def test_a_lone_surrogate_is_escaped_by_the_standard_library_as_before() -> None:
    value = {"error": 'field name "a\ud800" is not valid Unicode'}
    text = _provider().dumps(value, separators=(",", ":"))
    assert text == json.dumps(value, separators=(",", ":"), sort_keys=True)
    assert "\\ud800" in text
    assert stored_json(value) == json.dumps(value)


def test_an_integer_beyond_64_bits_is_written_by_the_standard_library() -> None:
    assert stored_json({"n": 2**70}) == '{"n": 1180591620717411303424}'
    assert _provider().dumps([2**70], separators=(",", ":")) == "[1180591620717411303424]"


def test_a_numpy_float_is_written_by_the_standard_library() -> None:
    assert stored_json({"p": np.float64(0.25)}) == '{"p": 0.25}'
    assert _provider().dumps([np.float64(0.25)], separators=(",", ":")) == "[0.25]"


def test_what_neither_can_write_is_still_a_type_error() -> None:
    for write in (stored_json, lambda v: _provider().dumps(v, separators=(",", ":"))):
        try:
            write({"s": {1, 2}})
        except TypeError:
            continue
        raise AssertionError("a set was written as JSON")


def test_indented_output_is_the_standard_providers() -> None:
    value = {"b": [1, 2], "a": "é"}
    assert _provider().dumps(value, indent=2) == json.dumps(value, indent=2, sort_keys=True)


def test_a_non_finite_float_is_stored_as_null_not_as_invalid_json() -> None:
    assert json.loads(stored_json({"x": math.nan})) == {"x": None}
