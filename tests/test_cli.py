"""Tests of the `spamward` command line: train, check and evaluate, run through CliRunner."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sklearn
from click.testing import CliRunner, Result

import training.cli
from service.cli import main
from tests.factories import HAM_TEXTS, SPAM_TEXTS, make_comments

ROWS = 120
CSV_FIELDS = ["comment_content", "comment_author", "comment_author_email", "user_ip", "label"]


# Helpers


def _invoke(*args: str | Path) -> Result:
    """Run `spamward ARGS` in-process; stdout and stderr both end up in `result.output`."""
    return CliRunner().invoke(main, [str(a) for a in args])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(count: int = ROWS, seed: int = 0, tag: str = "row") -> list[dict[str, str]]:
    """Labelled comments with Akismet's field names; a suffix makes every text unique."""
    rows = []
    for i, (comment, label) in enumerate(make_comments(count, seed)):
        content = f"{comment['comment_content']} [{tag}-{i}]"
        rows.append({**comment, "comment_content": content, "label": "spam" if label else "ham"})
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, str]], extra: tuple[str, ...] = ()) -> Path:
    """Write one JSON object a line, then the `extra` raw lines."""
    lines = [json.dumps(row, ensure_ascii=False) for row in rows] + list(extra)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write an Akismet-field CSV (every row is one line: the texts hold no newlines)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _read_card(folder: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    return card


def _artifacts(folder: Path) -> list[Path]:
    return sorted(folder.glob("model-*.joblib"))


def _source(card: dict[str, Any], path: Path) -> dict[str, Any]:
    """The card's `sources` entry of the file at `path`."""
    found = [s for s in card["sources"] if Path(s["path"]).name == path.name]
    assert len(found) == 1, card["sources"]
    entry: dict[str, Any] = found[0]
    return entry


def _table_row(output: str, name: str) -> list[str]:
    """The cells of the summary table's row whose first cell ends with `name`."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0].endswith(name):
            return cells
    raise AssertionError(f"no table row for {name} in:\n{output}")


def _check_json(*args: str | Path) -> dict[str, Any]:
    result = _invoke("check", "--json", *args)
    assert result.exit_code == 0, result.output
    verdict: dict[str, Any] = json.loads(result.stdout)
    return verdict


def _console_width(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """Fix the width of the console `train` prints to (else it follows the terminal)."""
    monkeypatch.setattr(training.cli.console, "_width", width)


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give rich's console room, so the summary table shows whole file names."""
    _console_width(monkeypatch, 200)


@pytest.fixture
def messy_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A JSONL and a CSV file (relative paths, cwd = tmp_path) with rejects and duplicates.

    comments.jsonl: 120 good rows, then line 121 with a bad label, line 122 not JSON and
    line 123 repeating line 1: read 123, kept 120, duplicates 1, rejected 2.
    comments.csv: a header, 120 good rows (lines 2-121), then line 122 with a bad label:
    read 121, kept 120, duplicates 0, rejected 1.
    """
    monkeypatch.chdir(tmp_path)
    json_rows = _rows(tag="jsonl")
    bad_label = json.dumps({"comment_content": "label is odd", "label": "maybe"})
    jsonl = _write_jsonl(
        Path("comments.jsonl"),
        json_rows,
        extra=(bad_label, "{not json", json.dumps(json_rows[0])),
    )
    csv_rows = _rows(seed=1, tag="csv")
    csv_rows.append({"comment_content": "unlabelled text", "label": "eggs"})
    return jsonl, _write_csv(Path("comments.csv"), csv_rows)


# train


def test_train_writes_a_card_and_exactly_one_artifact(tmp_path: Path) -> None:
    jsonl = _write_jsonl(tmp_path / "a.jsonl", _rows(tag="a"))
    data_csv = _write_csv(tmp_path / "b.csv", _rows(seed=1, tag="b"))
    out = tmp_path / "model"

    result = _invoke("train", "--data", jsonl, "--data", data_csv, "--out", out)

    assert result.exit_code == 0, result.output
    assert (out / "card.json").is_file()
    artifacts = _artifacts(out)
    assert len(artifacts) == 1
    card = _read_card(out)
    assert card["artifact_file"] == artifacts[0].name
    assert card["artifact_sha256"] == _sha256(artifacts[0])


def test_train_card_records_each_source_file_sha256_and_counts(
    messy_data: tuple[Path, Path], tmp_path: Path
) -> None:
    jsonl, data_csv = messy_data
    out = tmp_path / "model"

    result = _invoke("train", "--data", jsonl, "--data", data_csv, "--out", out)

    assert result.exit_code == 0, result.output
    card = _read_card(out)
    assert len(card["sources"]) == 2
    json_source, csv_source = _source(card, jsonl), _source(card, data_csv)
    assert json_source["sha256"] == _sha256(jsonl)
    assert csv_source["sha256"] == _sha256(data_csv)
    assert json_source["format"] == "akismet-jsonl"
    assert csv_source["format"] == "akismet-csv"
    counts = ("read", "kept", "duplicates", "rejected")
    assert [json_source[k] for k in counts] == [123, 120, 1, 2]
    assert [csv_source[k] for k in counts] == [121, 120, 0, 1]


def test_train_card_records_ordered_thresholds_params_and_environment(tmp_path: Path) -> None:
    jsonl = _write_jsonl(tmp_path / "a.jsonl", _rows())
    out = tmp_path / "model"

    result = _invoke("train", "--data", jsonl, "--out", out)

    assert result.exit_code == 0, result.output
    card = _read_card(out)
    thresholds = card["thresholds"]
    assert 0.0 <= thresholds["unsure"] <= thresholds["spam"] <= thresholds["discard"] <= 1.0
    assert {"C", "word_ngram_range", "char_ngram_range", "source_weights"} <= set(card["params"])
    assert card["environment"]["scikit-learn"] == sklearn.__version__
    assert {"python", "numpy", "joblib"} <= set(card["environment"])
    assert card["version"]
    assert card["artifact_file"] == f"model-{card['artifact_sha256'][:16]}.joblib"


@pytest.mark.usefixtures("wide_console")
def test_train_summary_names_each_file_with_its_counts(
    messy_data: tuple[Path, Path], tmp_path: Path
) -> None:
    jsonl, data_csv = messy_data

    result = _invoke("train", "--data", jsonl, "--data", data_csv, "--out", tmp_path / "model")

    assert result.exit_code == 0, result.output
    assert _table_row(result.output, "comments.jsonl")[1:] == [
        "akismet-jsonl",
        "123",
        "120",
        "1",
        "2",
    ]
    assert _table_row(result.output, "comments.csv")[1:] == ["akismet-csv", "121", "120", "0", "1"]
    assert "saved" in result.output
    assert "thresholds: unsure" in result.output


@pytest.mark.usefixtures("wide_console")
def test_train_reports_each_malformed_row_with_its_path_and_line(
    messy_data: tuple[Path, Path], tmp_path: Path
) -> None:
    jsonl, data_csv = messy_data

    result = _invoke("train", "--data", jsonl, "--data", data_csv, "--out", tmp_path / "model")

    assert result.exit_code == 0, result.output
    assert "comments.jsonl:121: label must be 'spam' or 'ham', found 'maybe'" in result.output
    assert "comments.jsonl:122: not valid JSON" in result.output
    assert "comments.csv:122: label must be 'spam' or 'ham', found 'eggs'" in result.output
    # A duplicate is counted, not reported as a reject.
    assert "comments.jsonl:123" not in result.output


def test_train_counts_a_repeated_text_as_a_duplicate_not_a_second_example(
    tmp_path: Path,
) -> None:
    rows = _rows()
    # Same text after normalisation (padding, a zero-width space, <b> markup), same label.
    text = rows[3]["comment_content"]
    repeat = {**rows[3], "comment_content": f"  <b>\u200b{text}</b>  "}
    jsonl = _write_jsonl(tmp_path / "a.jsonl", [*rows, rows[0], repeat])
    out = tmp_path / "model"

    result = _invoke("train", "--data", jsonl, "--out", out)

    assert result.exit_code == 0, result.output
    source = _source(_read_card(out), jsonl)
    assert (source["read"], source["kept"], source["duplicates"], source["rejected"]) == (
        ROWS + 2,
        ROWS,
        2,
        0,
    )


def test_train_param_override_lands_in_the_card_params(tmp_path: Path) -> None:
    jsonl = _write_jsonl(tmp_path / "a.jsonl", _rows())
    out = tmp_path / "model"

    result = _invoke("train", "--data", jsonl, "--out", out, "--param", "C=3")

    assert result.exit_code == 0, result.output
    assert _read_card(out)["params"]["C"] == 3


def test_train_rejects_an_unknown_param_with_a_message_naming_it(tmp_path: Path) -> None:
    jsonl = _write_jsonl(tmp_path / "a.jsonl", _rows())
    out = tmp_path / "model"

    result = _invoke("train", "--data", jsonl, "--out", out, "--param", "nope=1")

    assert result.exit_code != 0
    assert "nope" in result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert not _artifacts(out)


def test_train_with_a_param_missing_its_value_is_a_usage_error(tmp_path: Path) -> None:
    jsonl = _write_jsonl(tmp_path / "a.jsonl", _rows())

    result = _invoke("train", "--data", jsonl, "--out", tmp_path / "model", "--param", "C")

    assert result.exit_code == 2
    assert "expected NAME=VALUE" in result.output


def test_train_with_a_missing_data_file_fails_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"

    result = _invoke("train", "--data", missing, "--out", tmp_path / "model")

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert f"{missing}: no such file" in result.output
    assert not (tmp_path / "model").exists()


def test_train_on_one_class_only_fails_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    spam_only = [row for row in _rows() if row["label"] == "spam"]
    jsonl = _write_jsonl(tmp_path / "spam.jsonl", spam_only)

    result = _invoke("train", "--data", jsonl, "--out", tmp_path / "model")

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "both spam and ham" in result.output


def test_training_twice_into_one_folder_leaves_only_the_new_artifact(tmp_path: Path) -> None:
    jsonl = _write_jsonl(tmp_path / "a.jsonl", _rows())
    out = tmp_path / "model"
    first = _invoke("train", "--data", jsonl, "--out", out)
    assert first.exit_code == 0, first.output
    (old,) = _artifacts(out)
    old_version = _read_card(out)["version"]

    # Other data, so the new artifact's bytes (and name) differ from the old one's.
    other = _write_jsonl(tmp_path / "b.jsonl", _rows(seed=7, tag="b"))
    second = _invoke("train", "--data", other, "--out", out, "--param", "C=3")

    assert second.exit_code == 0, second.output
    artifacts = _artifacts(out)
    assert len(artifacts) == 1
    assert artifacts[0] != old
    assert not old.exists()
    card = _read_card(out)
    assert card["artifact_file"] == artifacts[0].name
    assert card["artifact_sha256"] == _sha256(artifacts[0])
    assert card["version"] != old_version
    assert not list(out.glob(".*")), "temporary files left behind"


def test_train_summary_keeps_long_paths_whole_in_80_column_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 80 columns is what rich uses when stderr is a pipe or a log file.
    _console_width(monkeypatch, 80)
    folder = tmp_path / "a-data-folder-with-a-rather-long-name" / "and-a-nested-one-below-it"
    folder.mkdir(parents=True)
    jsonl = _write_jsonl(folder / "comments-export.jsonl", _rows(), extra=("{not json",))

    result = _invoke("train", "--data", jsonl, "--out", tmp_path / "model")

    assert result.exit_code == 0, result.output
    assert f"{jsonl}:{ROWS + 1}: not valid JSON" in result.output, result.output
    assert "…" not in result.output, result.output


# check


def test_check_prints_probability_decision_and_model_version(tiny_model_dir: Path) -> None:
    version = _read_card(tiny_model_dir)["version"]

    result = _invoke("check", SPAM_TEXTS[0], "--model", tiny_model_dir)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    probability = next(line for line in lines if line.startswith("probability:"))
    assert 0.0 <= float(probability.split(":")[1]) <= 1.0
    decision = next(line for line in lines if line.startswith("decision:"))
    assert decision.split()[1] in ("ham", "unsure", "spam")
    assert f"model:       {version}" in lines


def test_check_json_has_the_verdict_fields_and_the_card_version(tiny_model_dir: Path) -> None:
    card = _read_card(tiny_model_dir)

    verdict = _check_json(
        SPAM_TEXTS[1],
        "--author",
        "casino_king77",
        "--url",
        "http://x.example.win",
        "--model",
        tiny_model_dir,
    )

    assert set(verdict) == {"probability", "decision", "discard", "explanation", "model_version"}
    assert set(verdict["explanation"]) == {"tokens", "signals", "bias"}
    assert isinstance(verdict["explanation"]["bias"], float)
    assert verdict["model_version"] == card["version"]
    probability = verdict["probability"]
    assert isinstance(probability, float)
    assert 0.0 <= probability <= 1.0
    thresholds = card["thresholds"]
    expected = (
        "spam"
        if probability >= thresholds["spam"]
        else "unsure"
        if probability >= thresholds["unsure"]
        else "ham"
    )
    assert verdict["decision"] == expected
    assert verdict["discard"] is (probability >= thresholds["discard"])


def test_check_scores_a_spammy_text_above_a_ham_text(tiny_model_dir: Path) -> None:
    spam = _check_json(SPAM_TEXTS[0], "--model", tiny_model_dir)
    ham = _check_json(HAM_TEXTS[0], "--model", tiny_model_dir)

    assert spam["probability"] > ham["probability"]
    assert spam["decision"] == "spam"
    assert ham["decision"] == "ham"


def test_check_with_an_empty_model_folder_fails_naming_card_json(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    result = _invoke("check", "hello", "--model", empty)

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "card.json" in result.output
    assert "Traceback" not in result.output


def test_check_with_a_tampered_artifact_fails_naming_sha256(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(tiny_model_dir, copy)
    (artifact,) = _artifacts(copy)
    with artifact.open("ab") as handle:
        handle.write(b"\0")

    result = _invoke("check", "hello", "--model", copy)

    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "sha256" in result.output
    assert artifact.name in result.output


def test_check_without_model_uses_the_spamward_model_dir_variable(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAMWARD_MODEL_DIR", str(tiny_model_dir))

    verdict = _check_json(HAM_TEXTS[1])

    assert verdict["model_version"] == _read_card(tiny_model_dir)["version"]


# evaluate


@pytest.mark.corpora
def test_evaluate_sms_prints_json_with_a_test_mcc(corpora: Path) -> None:
    result = _invoke("evaluate", "--protocol", "sms", "--data", corpora / "sms_spam", "--json")

    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["protocol"] == "sms"
    mcc = metrics["test"]["mcc"]
    assert isinstance(mcc, float)
    assert 0.0 <= mcc <= 1.0


@pytest.mark.corpora
def test_evaluate_tubespam_writes_an_html_report_and_metrics(corpora: Path, tmp_path: Path) -> None:
    report = tmp_path / "report"

    result = _invoke(
        "evaluate",
        "--protocol",
        "tubespam",
        "--data",
        corpora / "youtube_spam",
        "--report",
        report,
    )

    assert result.exit_code == 0, result.output
    assert (report / "index.html").is_file()
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["protocol"] == "tubespam"
    assert str(report / "index.html") in result.output.replace("\n", "")


def test_evaluate_sms_without_the_sms_file_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "no_sms_here"
    folder.mkdir()

    result = _invoke("evaluate", "--protocol", "sms", "--data", folder)

    assert result.exit_code == 2
    assert "SMSSpamCollection" in result.output
    assert "Traceback" not in result.output
