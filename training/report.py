"""A static evaluation report: metrics.json, four PNG plots and a self-contained index.html.

Plots are drawn on `matplotlib.figure.Figure` with the Agg canvas directly: no pyplot, no
global backend state, nothing drawn at import time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from training.evaluate import Scored
from training.metrics import decision_metrics

Cell = str | float | int | None
Plot = Callable[[Sequence[Scored], Path], None]

MISSING = "n/a"
BINS = np.linspace(0.0, 1.0, 41)
IMAGES = {
    "roc.png": "ROC curves: spam caught against blocked ham, one line per test set",
    "precision_recall.png": "Precision-recall curves, one line per test set",
    "score_histograms.png": "Spam-probability histograms of spam and ham, threshold marked",
    "confusion_matrices.png": "Confusion matrices at each test set's threshold",
}
CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f0f0; }
tr.mean td { font-weight: bold; border-top: 2px solid #888; }
figure { margin: 1.5rem 0; }
img { max-width: 100%; border: 1px solid #ddd; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; }
"""


def write_report(result: dict[str, Any], scored: list[Scored], folder: Path) -> Path:
    """Write metrics.json, the plots and index.html into `folder`; return index.html's path."""
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    (folder / "metrics.json").write_text(text, encoding="utf-8")
    plots: dict[str, Plot] = {
        "roc.png": _plot_roc,
        "precision_recall.png": _plot_precision_recall,
        "score_histograms.png": _plot_histograms,
        "confusion_matrices.png": _plot_confusions,
    }
    for name, plot in plots.items():
        plot(scored, folder / name)
    index = folder / "index.html"
    index.write_text(render_html(result), encoding="utf-8")
    return index


# Plots


def _both_classes(s: Scored) -> bool:
    """Tell whether the test set holds both spam and ham."""
    return len(set(s.labels)) == 2


def _save(figure: Figure, path: Path) -> None:
    """Render the figure to a PNG file with the Agg canvas."""
    FigureCanvasAgg(figure)
    figure.savefig(path, format="png")


def _grid(count: int) -> tuple[int, int]:
    """Return (rows, columns) of a subplot grid holding `count` panels, at most 3 across."""
    columns = max(1, min(3, count))
    return max(1, math.ceil(count / columns)), columns


def _no_data(ax: Any) -> None:
    """Mark an axes as having nothing to show."""
    ax.text(0.5, 0.5, "no test set with both spam and ham", ha="center", va="center")


def _plot_roc(scored: Sequence[Scored], path: Path) -> None:
    """Draw one ROC curve per test set with both classes, AUC in the legend."""
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
    drawn = [s for s in scored if _both_classes(s)]
    for s in drawn:
        fpr, tpr, _ = roc_curve(s.labels, s.scores)
        ax.plot(fpr, tpr, label=f"{s.name} (AUC {roc_auc_score(s.labels, s.scores):.3f})")
    if drawn:
        ax.legend(loc="lower right", fontsize="small")
    else:
        _no_data(ax)
    ax.set(xlabel="blocked ham (false positive rate)", ylabel="spam caught (true positive rate)")
    ax.set(title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    _save(figure, path)


def _plot_precision_recall(scored: Sequence[Scored], path: Path) -> None:
    """Draw one precision-recall curve per test set with both classes, AP in the legend."""
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = figure.add_subplot()
    drawn = [s for s in scored if _both_classes(s)]
    for s in drawn:
        precision, recall, _ = precision_recall_curve(s.labels, s.scores)
        ap = average_precision_score(s.labels, s.scores)
        ax.plot(recall, precision, drawstyle="steps-post", label=f"{s.name} (AP {ap:.3f})")
    if drawn:
        ax.legend(loc="lower left", fontsize="small")
    else:
        _no_data(ax)
    ax.set(xlabel="recall (spam caught)", ylabel="precision", title="Precision-recall")
    ax.set(xlim=(0, 1), ylim=(0, 1.01))
    _save(figure, path)


def _histogram(ax: Any, s: Scored) -> None:
    """Draw the score histograms of one test set by class, and its threshold."""
    labels = np.asarray(s.labels, dtype=int)
    scores = np.clip(np.asarray(s.scores, dtype=float), 0.0, 1.0)
    for label, name, colour in ((0, "ham", "tab:blue"), (1, "spam", "tab:red")):
        chosen = scores[labels == label]
        if chosen.size:
            ax.hist(chosen, bins=BINS, alpha=0.6, color=colour, label=f"{name} ({chosen.size})")
    if scores.size:
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.5)
        # A fixed place: "best" searches the bars, and on a busy machine that search takes
        # over a second, which matplotlib warns about (and the tests treat warnings as errors).
        ax.legend(loc="upper center", fontsize="small")
    ax.axvline(s.threshold, color="black", linestyle="--", linewidth=1)
    ax.set(title=s.name, xlabel="spam probability", ylabel="comments", xlim=(0, 1))


def _plot_histograms(scored: Sequence[Scored], path: Path) -> None:
    """Draw a grid of per-test-set score histograms."""
    rows, columns = _grid(len(scored))
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, s in zip(axes, scored, strict=False):
        _histogram(ax, s)
    for ax in axes[len(scored) :]:
        ax.set_axis_off()
    _save(figure, path)


def _confusion(ax: Any, s: Scored) -> None:
    """Draw one 2x2 confusion matrix (rows true, columns predicted) with counts."""
    c = decision_metrics(s.labels, s.scores, s.threshold)["confusion"]
    matrix = np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]])
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(1, int(matrix.max())))
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        ax.text(column, row, str(count), ha="center", va="center", color=colour, fontsize=13)
    ax.set_xticks([0, 1], ["ham", "spam"])
    ax.set_yticks([0, 1], ["ham", "spam"])
    ax.set(xlabel="predicted", ylabel="true", title=f"{s.name} (threshold {s.threshold:.3g})")


def _plot_confusions(scored: Sequence[Scored], path: Path) -> None:
    """Draw a grid of per-test-set confusion matrices."""
    rows, columns = _grid(len(scored))
    figure = Figure(figsize=(3.6 * columns, 3.4 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, s in zip(axes, scored, strict=False):
        _confusion(ax, s)
    for ax in axes[len(scored) :]:
        ax.set_axis_off()
    _save(figure, path)


# HTML


def _number(value: Any, digits: int = 3) -> str:
    """Format a number with fixed decimals, or a dash when missing."""
    return MISSING if value is None else f"{value:.{digits}f}"


def _percent(value: Any) -> str:
    """Format a share as a percentage with two decimals, or a dash when missing."""
    return MISSING if value is None else f"{100 * value:.2f}"


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[Cell]], last_is_mean: bool = False
) -> str:
    """Render an escaped HTML table."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        mean = last_is_mean and index == len(rows) - 1
        cells = "".join(f"<td>{escape(MISSING if c is None else str(c))}</td>" for c in row)
        body.append(f'<tr class="mean">{cells}</tr>' if mean else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _published_mean(result: dict[str, Any], prefix: str) -> tuple[str | None, Any]:
    """Return the label and value of the published mean MCC whose label starts with `prefix`."""
    means = result.get("published_mean_mcc") or {}
    return next(((k, v) for k, v in means.items() if k.lower().startswith(prefix)), (None, None))


def _video_row(name: str, v: dict[str, Any]) -> list[Cell]:
    """Return one video's table row: ours, then the published figures."""
    ours = [_percent(v.get("accuracy")), _percent(v.get("spam_caught"))]
    ours += [_percent(v.get("blocked_ham")), _number(v.get("f1")), _number(v.get("mcc"))]
    published = [_number(v.get("published_best_mcc")), v.get("published_best")]
    return [name, v.get("test_rows"), *ours, *published, _number(v.get("published_lr_mcc"))]


def _tubespam_tables(result: dict[str, Any]) -> str:
    """Render the per-video table beside the published MCCs, with the mean row."""
    headers = ["video", "test rows", "accuracy %", "SC %", "BH %", "F1", "MCC"]
    headers += ["published best MCC", "published best", "published LR MCC"]
    rows = [_video_row(name, v) for name, v in result.get("videos", {}).items()]
    best_label, best = _published_mean(result, "best")
    _, lr = _published_mean(result, "logistic")
    mean: list[Cell] = ["mean", "", "", "", "", "", _number(result.get("mean_mcc"))]
    rows.append([*mean, _number(best), best_label, _number(lr)])
    return "<h2>Per video</h2>" + _table(headers, rows, last_is_mean=True)


def _case_row(name: str, c: dict[str, Any]) -> list[Cell]:
    """Return one cross-source case's table row."""
    ranking = [_number(c.get("roc_auc"), 4), _number(c.get("pr_auc"), 4)]
    caught = [_percent(c.get(f"spam_caught_at_{r}pct_blocked_ham")) for r in ("1", "0.1")]
    return [name, c.get("train_rows"), c.get("test_rows"), *ranking, *caught]


def _cross_source_tables(result: dict[str, Any]) -> str:
    """Render the cross-source cases table."""
    headers = ["case", "train rows", "test rows", "ROC AUC", "PR AUC"]
    headers += ["SC % at 1% BH", "SC % at 0.1% BH"]
    rows = [_case_row(name, c) for name, c in result.get("cases", {}).items()]
    return "<h2>Cases</h2>" + _table(headers, rows)


def _sms_tables(result: dict[str, Any]) -> str:
    """Render the setup list and the ours-versus-published table."""
    test, published = result.get("test", {}), result.get("published_best", {})
    setup = [
        ("seed", result.get("seed")),
        ("train rows", result.get("train_rows")),
        ("test rows", result.get("test_rows")),
        ("threshold", _number(result.get("threshold"), 4)),
    ]
    items = "".join(f"<li>{escape(k)}: {escape(str(v))}</li>" for k, v in setup if v is not None)
    headers = ["classifier", "SC %", "BH %", "accuracy %", "MCC", "ROC AUC", "PR AUC"]
    rows: list[list[Cell]] = [
        ["Spamward (this run)", *_sms_cells(test)],
        [published.get("classifier", "published best"), *_sms_cells(published)],
    ]
    return f"<h2>Test set</h2><ul>{items}</ul>" + _table(headers, rows)


def _sms_cells(metrics: dict[str, Any]) -> list[Cell]:
    """Return the SMS table cells of one classifier's metrics."""
    rates = [metrics.get(k) for k in ("spam_caught", "blocked_ham", "accuracy")]
    ranking = [_number(metrics.get(k), 4) for k in ("roc_auc", "pr_auc")]
    return [*(_percent(r) for r in rates), _number(metrics.get("mcc")), *ranking]


def _retrain_row(name: str, m: dict[str, Any]) -> list[Cell]:
    """Return one model's row of the retraining comparison."""
    at_spam = m.get("at_spam_threshold", {})
    return [
        name,
        _percent(m.get("spam_caught_at_gate_blocked_ham")),
        _number(m.get("roc_auc"), 4),
        _number(m.get("pr_auc"), 4),
        _percent(at_spam.get("spam_caught")),
        _percent(at_spam.get("blocked_ham")),
    ]


def _retrain_tables(result: dict[str, Any]) -> str:
    """Render champion versus challenger on the held-out labels, and the gate's verdict."""
    gate = result.get("gate", {})
    rate = _percent(gate.get("blocked_ham_rate"))
    headers = ["model", f"SC % at {rate}% BH", "ROC AUC", "PR AUC", "SC % at its spam threshold"]
    headers.append("BH % at its spam threshold")
    rows = [
        _retrain_row(f"champion {result.get('champion_version', '')}", result.get("champion", {})),
        _retrain_row(f"challenger {result.get('version', '')}", result.get("challenger", {})),
    ]
    verdict = "refused"
    if gate.get("passed"):
        verdict = "promoted" if result.get("promoted") else "passed, not promoted"
    reasons = "".join(f"<li>{escape(str(r))}</li>" for r in gate.get("reasons", []))
    labels = result.get("labels", {})
    setup = (
        f"<p>Held out: the newest {escape(str(labels.get('held_out')))} labelled checks "
        f"(since {escape(str(result.get('held_out_since')))}); the challenger trained on "
        f"{escape(str(labels.get('training')))} older ones plus the base corpora.</p>"
    )
    return (
        f"<h2>Held-out labels</h2>{setup}"
        + _table(headers, rows)
        + f"<h2>Gate: {escape(verdict)}</h2><ul>{reasons}</ul>"
    )


def _other_tables(result: dict[str, Any]) -> str:
    """Render an unknown protocol's result as escaped JSON."""
    return f"<h2>Result</h2><pre>{escape(json.dumps(result, indent=2))}</pre>"


TABLES: dict[str, Callable[[dict[str, Any]], str]] = {
    "tubespam": _tubespam_tables,
    "cross-source": _cross_source_tables,
    "sms": _sms_tables,
    "retrain": _retrain_tables,
}


def _notes(result: dict[str, Any]) -> str:
    """Render the result's notes as an escaped list, or nothing when there are none."""
    notes = result.get("notes") or []
    if not notes:
        return ""
    items = "".join(f"<li>{escape(str(note))}</li>" for note in notes)
    return f"<h2>Notes</h2><ul>{items}</ul>"


def _figures() -> str:
    """Render the four plots as figures with alt text."""
    return "<h2>Plots</h2>" + "".join(
        f'<figure><img src="{escape(name)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(alt)}</figcaption></figure>"
        for name, alt in IMAGES.items()
    )


def render_html(result: dict[str, Any]) -> str:
    """Render the self-contained report page of one protocol's result."""
    protocol = str(result.get("protocol", "unknown"))
    title = escape(f"Spamward evaluation: {protocol}")
    tables = TABLES.get(protocol, _other_tables)(result)
    body = f"<h1>{title}</h1>{tables}{_notes(result)}{_figures()}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
