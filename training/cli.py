"""`spamward train` and `spamward evaluate`: the only training module that prints."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from model.persistence import save_model
from training import evaluate as protocols
from training.data import FORMATS, DataError, Dataset, load_dataset
from training.pipeline import merged_params
from training.train import train

console = Console(stderr=True)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """Parse `--param NAME=JSON` pairs (a bare string value needs no quotes)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--param")
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw
    return params


def print_data_summary(dataset: Dataset) -> None:
    """Print rows read, kept, dropped as duplicates and rejected, per file; then every reject."""
    table = Table(title="Training data")
    table.add_column("file", overflow="fold")
    table.add_column("format")
    for column in ("read", "kept", "duplicates", "rejected"):
        table.add_column(column, justify="right")
    for r in dataset.reports:
        table.add_row(r.path, r.format, *map(str, (r.read, r.kept, r.duplicates, r.rejected)))
    console.print(table)
    for report in dataset.reports:
        for reject in report.rejects:
            console.print(f"[yellow]rejected[/] {reject}", highlight=False, soft_wrap=True)
    for skipped in dataset.skipped_files:
        console.print(
            f"[dim]skipped (not a known format): {skipped}[/]", highlight=False, soft_wrap=True
        )


def _progress_printer() -> Any:
    started = time.monotonic()

    def report(message: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] {message}", highlight=False)

    return report


@click.command("train")
@click.option(
    "--data",
    "data",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="A data file or folder; repeat for several.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Model folder to write (card.json and the artifact).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Format of every --data file, when it cannot be recognised.",
)
@click.option(
    "--param",
    "param_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a training parameter, e.g. --param C=3.",
)
def train_command(
    data: tuple[Path, ...], out: Path, fmt: str | None, param_pairs: tuple[str, ...]
) -> None:
    """Train a model from labelled comments and save it with its card."""
    try:
        params = merged_params(_parse_params(param_pairs))
        dataset = load_dataset(data, fmt)
    except (DataError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    print_data_summary(dataset)
    try:
        with console.status("training"):
            pipeline, card = train(dataset, params, progress=_progress_printer())
    except ValueError as exc:
        raise click.ClickException(f"cannot train: {exc}") from exc
    card = save_model(pipeline, card, out)
    overall = card.metrics["validation"]["overall"]
    spam = overall["at_spam_threshold"]
    console.print(
        f"[green]saved[/] {out / card.artifact_file} (version {card.version})\n"
        f"thresholds: unsure {card.thresholds.unsure:.4f}, spam {card.thresholds.spam:.4f}, "
        f"discard {card.thresholds.discard:.4f}\n"
        f"validation (out-of-fold): ROC AUC {overall['roc_auc']:.4f}, spam caught "
        f"{spam['spam_caught']:.2%} at {spam['blocked_ham']:.2%} blocked ham, "
        f"MCC {spam['mcc']:.4f}",
        highlight=False,
        soft_wrap=True,
    )


def _tubespam_table(result: dict[str, Any]) -> Table:
    table = Table(title="TubeSpam protocol (per video, published split)")
    for column in (
        "video",
        "acc %",
        "SC %",
        "BH %",
        "F1",
        "MCC",
        "best published MCC",
        "published LR MCC",
    ):
        table.add_column(column, justify="right")
    for name, v in result["videos"].items():
        table.add_row(
            name,
            f"{v['accuracy']:.2%}"[:-1],
            f"{v['spam_caught']:.2%}"[:-1],
            f"{v['blocked_ham']:.2%}"[:-1],
            f"{v['f1']:.3f}",
            f"{v['mcc']:.3f}",
            f"{v['published_best_mcc']:.3f}",
            f"{v['published_lr_mcc']:.3f}",
        )
    table.add_row("mean", "", "", "", "", f"{result['mean_mcc']:.3f}", "0.904", "0.901")
    return table


def _cross_source_table(result: dict[str, Any]) -> Table:
    table = Table(title="Cross-source protocol")
    for column in ("train -> test", "ROC AUC", "PR AUC", "SC @ 1% BH", "SC @ 0.1% BH"):
        table.add_column(column, justify="right")
    for name, c in result["cases"].items():
        table.add_row(
            name,
            f"{c['roc_auc']:.4f}",
            f"{c['pr_auc']:.4f}",
            f"{c['spam_caught_at_1pct_blocked_ham']:.2%}",
            f"{c['spam_caught_at_0.1pct_blocked_ham']:.2%}",
        )
    return table


def _sms_table(result: dict[str, Any]) -> Table:
    table = Table(title=f"SMS protocol (stratified 70/30 of unique texts, seed {result['seed']})")
    for column in ("", "SC %", "BH %", "accuracy %", "MCC"):
        table.add_column(column, justify="right")
    t, p = result["test"], result["published_best"]
    table.add_row(
        "Spamward",
        f"{t['spam_caught']:.2%}",
        f"{t['blocked_ham']:.2%}",
        f"{t['accuracy']:.2%}",
        f"{t['mcc']:.3f}",
    )
    table.add_row(
        p["classifier"],
        f"{p['spam_caught']:.2%}",
        f"{p['blocked_ham']:.2%}",
        f"{p['accuracy']:.2%}",
        f"{p['mcc']:.3f}",
    )
    return table


def _find(data: tuple[Path, ...], marker: str) -> Path:
    """Pick the --data folder of one corpus: the one holding `marker`."""
    for path in data:
        if (path / marker).exists() or any(path.glob(marker)):
            return path
    raise click.UsageError(f"this protocol needs a --data folder containing {marker}")


def run_protocol(
    name: str, data: tuple[Path, ...], split: Path | None, seed: int
) -> tuple[dict[str, Any], list[Any]]:
    """Run one evaluation protocol on the given data folders."""
    progress = _progress_printer()
    if name == "tubespam":
        return protocols.tubespam(_find(data, "Youtube*.csv"), split, progress=progress)
    if name == "cross-source":
        return protocols.cross_source(
            _find(data, "Youtube*.csv"), _find(data, "SMSSpamCollection"), progress=progress
        )
    return protocols.sms(_find(data, "SMSSpamCollection"), seed=seed, progress=progress)


@click.command("evaluate")
@click.option("--protocol", type=click.Choice(protocols.PROTOCOLS), required=True)
@click.option(
    "--data",
    "data",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Corpus folder(s): youtube_spam/ and/or sms_spam/.",
)
@click.option(
    "--split",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="TubeSpam split file (default: <youtube folder>/splits/tubespam_authors_holdout70.csv).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the SMS split.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write metrics.json, PNG plots and index.html here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
def evaluate_command(
    protocol: str,
    data: tuple[Path, ...],
    split: Path | None,
    seed: int,
    report_dir: Path | None,
    as_json: bool,
) -> None:
    """Evaluate the training recipe on a published protocol."""
    try:
        result, scored = run_protocol(protocol, data, split, seed)
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    if report_dir is not None:
        from training.report import write_report

        index = write_report(result, scored, report_dir)
        console.print(f"[green]report[/] {index}", highlight=False)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    tables = {"tubespam": _tubespam_table, "cross-source": _cross_source_table, "sms": _sms_table}
    Console().print(tables[protocol](result))
    for note in result.get("notes", []):
        click.echo(f"note: {note}")
