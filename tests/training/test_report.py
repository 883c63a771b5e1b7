"""Tests of the static evaluation report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.evaluate import Scored
from training.report import write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILES = [
    "index.html",
    "metrics.json",
    "roc.png",
    "precision_recall.png",
    "score_histograms.png",
    "confusion_matrices.png",
]


def _scored(name: str, threshold: float = 0.5) -> Scored:
    labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    scores = [0.01, 0.05, 0.2, 0.4, 0.55, 0.1, 0.45, 0.7, 0.9, 0.99]
    return Scored(name, labels, scores, threshold)


def _video(mcc: float) -> dict[str, Any]:
    return {
        "threshold": 0.5,
        "n": 10,
        "accuracy": 0.8,
        "spam_caught": 0.75,
        "blocked_ham": 0.1667,
        "precision": 0.75,
        "f1": 0.75,
        "mcc": mcc,
        "confusion": {"tp": 3, "fp": 1, "tn": 5, "fn": 1},
        "train_rows": 30,
        "train_rows_used": 28,
        "train_rows_dropped_as_duplicates": 2,
        "test_rows": 10,
        "published_best": "SVM (RBF)",
        "published_best_mcc": 0.925,
        "published_lr_mcc": 0.907,
        "at_or_above_published_best": False,
    }


def _tubespam_result(notes: list[str] | None = None) -> dict[str, Any]:
    return {
        "protocol": "tubespam",
        "threshold": 0.5,
        "videos": {"Psy": _video(0.5833), "Eminem": _video(0.6123)},
        "mean_mcc": 0.5978,
        "published_mean_mcc": {"best (SVM RBF)": 0.904, "logistic regression": 0.901},
        "notes": notes or ["Each video alone."],
    }


def _sms_result() -> dict[str, Any]:
    return {
        "protocol": "sms",
        "seed": 0,
        "train_rows": 20,
        "test_rows": 10,
        "threshold": 0.5,
        "test": {
            "accuracy": 0.8,
            "spam_caught": 0.75,
            "blocked_ham": 0.1667,
            "mcc": 0.5833,
            "f1": 0.75,
            "confusion": {"tp": 3, "fp": 1, "tn": 5, "fn": 1},
            "roc_auc": 0.9583,
            "pr_auc": 0.95,
        },
        "published_best": {
            "classifier": "SVM + tokenizer 1",
            "spam_caught": 0.831,
            "blocked_ham": 0.0018,
            "accuracy": 0.9764,
            "mcc": 0.893,
        },
        "notes": ["Unique texts only."],
    }


def test_every_file_is_written_and_the_plots_are_png(tmp_path: Path) -> None:
    folder = tmp_path / "nested" / "report"
    index = write_report(_tubespam_result(), [_scored("Psy"), _scored("Eminem")], folder)
    assert index == folder / "index.html"
    for name in FILES:
        assert (folder / name).is_file(), name
    for name in FILES[2:]:
        assert (folder / name).read_bytes().startswith(PNG_SIGNATURE), name


def test_metrics_json_round_trips_to_the_result(tmp_path: Path) -> None:
    result = _tubespam_result()
    write_report(result, [_scored("Psy")], tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8")) == result


def test_tubespam_page_names_the_protocol_and_shows_the_table_and_images(tmp_path: Path) -> None:
    page = write_report(_tubespam_result(), [_scored("Psy")], tmp_path).read_text(encoding="utf-8")
    assert "tubespam" in page
    assert "<td>0.583</td>" in page
    assert "<td>0.598</td>" in page
    assert "<td>0.925</td>" in page and "<td>0.907</td>" in page
    assert "<td>75.00</td>" in page
    for name in FILES[2:]:
        assert f'<img src="{name}" alt="' in page
    assert "<script" not in page and "http" not in page


def test_sms_page_sets_ours_beside_the_published_row(tmp_path: Path) -> None:
    page = write_report(_sms_result(), [_scored("sms")], tmp_path).read_text(encoding="utf-8")
    assert "sms" in page
    assert "<td>Spamward (this run)</td>" in page
    assert "<td>SVM + tokenizer 1</td>" in page
    assert "<td>0.583</td>" in page and "<td>0.893</td>" in page


def test_cross_source_page_lists_every_case(tmp_path: Path) -> None:
    case = {
        "roc_auc": 0.91234,
        "pr_auc": 0.8,
        "spam_caught_at_1pct_blocked_ham": 0.5,
        "spam_caught_at_0.1pct_blocked_ham": 0.25,
        "train_rows": 100,
        "test_rows": 10,
    }
    result = {"protocol": "cross-source", "cases": {"youtube -> sms": case, "sms -> youtube": case}}
    page = write_report(result, [_scored("a"), _scored("b")], tmp_path).read_text(encoding="utf-8")
    assert "cross-source" in page
    assert "youtube -&gt; sms" in page and "sms -&gt; youtube" in page
    assert "<td>0.9123</td>" in page and "<td>25.00</td>" in page


def test_a_note_holding_markup_is_escaped(tmp_path: Path) -> None:
    result = _tubespam_result(notes=["<script>alert(1)</script> & more"])
    page = write_report(result, [_scored("Psy")], tmp_path).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<script>" not in page


def test_a_one_class_test_set_still_gets_a_histogram_and_matrix(tmp_path: Path) -> None:
    one_class = Scored("all ham", [0, 0, 0], [0.1, 0.2, 0.7], 0.5)
    index = write_report(_sms_result(), [one_class, _scored("mixed")], tmp_path)
    assert index.is_file()
    for name in FILES[2:]:
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE), name


def test_only_one_class_sets_still_write_every_plot(tmp_path: Path) -> None:
    scored = [Scored("all spam", [1, 1], [0.9, 0.95], 0.5), Scored("empty", [], [], 0.5)]
    write_report(_sms_result(), scored, tmp_path)
    for name in FILES[2:]:
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE), name
