"""Tests of the model card's JSON form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from model.card import ModelCard
from model.decision import Thresholds
from model.errors import ModelCardError, ModelError


def _card(**changes: Any) -> ModelCard:
    fields: dict[str, Any] = {
        "version": "2025-01-01T00-00-00Z",
        "created_at": "2025-01-01T00:00:00+00:00",
        "artifact_file": "model-abc123.joblib",
        "artifact_sha256": "ab" * 32,
        "feature_version": 1,
        "thresholds": Thresholds(0.3, 0.6, 0.95),
        "threshold_method": "blocked_ham<=1%",
        "environment": {"python": "3.11.7", "scikit-learn": "1.9.1"},
        "sources": [{"path": "data/a.csv", "read": 10, "kept": 9}],
        "params": {"C": 4.0, "ngram": [1, 2]},
        "metrics": {"mcc": 0.91, "confusion": {"tp": 5, "fp": 1}},
        "licences": ["CC BY 4.0 (UCI YouTube Spam Collection)"],
    }
    fields.update(changes)
    return ModelCard(**fields)


def _card_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_card().to_json())
    return data


def test_card_survives_a_json_round_trip() -> None:
    card = _card()
    assert ModelCard.from_json(card.to_json()) == card


def test_round_trip_restores_thresholds_as_thresholds() -> None:
    restored = ModelCard.from_json(_card().to_json())
    assert restored.thresholds == Thresholds(0.3, 0.6, 0.95)


def test_card_with_default_lists_and_dicts_survives_a_round_trip() -> None:
    card = ModelCard(
        "v1", "2025-01-01", "m.joblib", "0" * 64, 1, Thresholds(0.5, 0.5, 1.0), "fixed", {}
    )
    assert ModelCard.from_json(card.to_json()) == card


def test_card_keeps_non_ascii_text_readable() -> None:
    card = _card(licences=["Lucía's data ©"])
    text = card.to_json()
    assert "Lucía's data ©" in text
    assert ModelCard.from_json(text).licences == ["Lucía's data ©"]


def test_to_json_writes_thresholds_as_an_object() -> None:
    assert _card_dict()["thresholds"] == {"unsure": 0.3, "spam": 0.6, "discard": 0.95}


def test_to_json_is_indented_and_ends_with_a_newline() -> None:
    text = _card().to_json()
    assert text.endswith("}\n")
    assert '\n  "version": ' in text


def test_invalid_json_raises_model_card_error_naming_the_origin() -> None:
    with pytest.raises(ModelCardError, match=r"^models/v1/card\.json: not a valid model card"):
        ModelCard.from_json("{not json", origin="models/v1/card.json")


def test_default_origin_is_card() -> None:
    with pytest.raises(ModelCardError, match=r"^card: "):
        ModelCard.from_json("")


@pytest.mark.parametrize("key", ["version", "artifact_sha256", "environment", "threshold_method"])
def test_missing_key_raises_model_card_error(key: str) -> None:
    data = _card_dict()
    del data[key]
    with pytest.raises(ModelCardError, match=r"^here\.json: "):
        ModelCard.from_json(json.dumps(data), origin="here.json")


def test_missing_thresholds_raise_model_card_error_naming_the_key() -> None:
    data = _card_dict()
    del data["thresholds"]
    with pytest.raises(ModelCardError, match="thresholds"):
        ModelCard.from_json(json.dumps(data), origin="x")


def test_missing_optional_keys_take_their_defaults() -> None:
    data = _card_dict()
    for key in ("sources", "params", "metrics", "licences"):
        del data[key]
    card = ModelCard.from_json(json.dumps(data))
    assert (card.sources, card.params, card.metrics, card.licences) == ([], {}, {}, [])


def test_unknown_key_raises_model_card_error() -> None:
    data = _card_dict()
    data["surprise"] = 1
    with pytest.raises(ModelCardError, match="surprise"):
        ModelCard.from_json(json.dumps(data), origin="x")


def test_out_of_order_thresholds_raise_model_card_error() -> None:
    data = _card_dict()
    data["thresholds"] = {"unsure": 0.9, "spam": 0.5, "discard": 0.95}
    with pytest.raises(ModelCardError, match=r"^bad\.json: .*unsure <= spam <= discard"):
        ModelCard.from_json(json.dumps(data), origin="bad.json")


def test_out_of_range_thresholds_raise_model_card_error() -> None:
    data = _card_dict()
    data["thresholds"] = {"unsure": 0.1, "spam": 0.5, "discard": 1.5}
    with pytest.raises(ModelCardError, match=r"^bad\.json: "):
        ModelCard.from_json(json.dumps(data), origin="bad.json")


@pytest.mark.parametrize(
    "value",
    [
        {"unsure": 0.1, "spam": 0.5},
        {"unsure": 0.1, "spam": 0.5, "discard": 0.9, "extra": 1.0},
        {"unsure": "0.1", "spam": "0.5", "discard": "0.9"},
        [0.1, 0.5, 0.9],
        None,
    ],
)
def test_malformed_thresholds_raise_model_card_error(value: Any) -> None:
    data = _card_dict()
    data["thresholds"] = value
    with pytest.raises(ModelCardError, match=r"^bad\.json: "):
        ModelCard.from_json(json.dumps(data), origin="bad.json")


@pytest.mark.parametrize("text", ["[]", "null", "42", '"card"'])
def test_json_that_is_not_an_object_raises_model_card_error(text: str) -> None:
    with pytest.raises(ModelCardError, match=r"^c\.json: "):
        ModelCard.from_json(text, origin="c.json")


def test_model_card_error_keeps_its_cause_and_is_a_model_error() -> None:
    with pytest.raises(ModelError) as caught:
        ModelCard.from_json("{", origin="x")
    assert isinstance(caught.value, ModelCardError)
    assert isinstance(caught.value.__cause__, ValueError)
