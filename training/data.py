"""Loading labelled comments: the UCI YouTube and SMS corpora, and Akismet-field CSV or JSONL.

Every row read is accounted for: kept, dropped as a duplicate, or rejected with its file and
line. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from model.features import COMMENT_FIELDS
from model.persistence import file_sha256
from model.text import normalise_text

SPAM, HAM = 1, 0
FORMATS = ("youtube", "sms", "akismet-csv", "akismet-jsonl")
YOUTUBE_HEADER = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"]
_LABELS = {"spam": SPAM, "ham": HAM}


class DataError(Exception):
    """A data source cannot be read at all (missing, unrecognised format)."""


@dataclass(frozen=True)
class Example:
    """One labelled comment and where it came from."""

    comment: dict[str, str]
    label: int
    source: str
    file: str
    line: int
    row_index: int
    key: str  # normalised content: what "duplicate" means

    @property
    def origin(self) -> str:
        """`file:line`, for messages."""
        return f"{self.file}:{self.line}"


@dataclass
class SourceReport:
    """What happened to the rows of one file."""

    path: str
    format: str
    source: str
    sha256: str
    read: int = 0
    kept: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        """Count a malformed row and remember where it was and why."""
        self.rejected += 1
        self.rejects.append(f"{self.path}:{line}: {reason}")

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary (the card's `sources` entries)."""
        return {
            "path": self.path,
            "format": self.format,
            "source": self.source,
            "sha256": self.sha256,
            "read": self.read,
            "kept": self.kept,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


@dataclass
class Dataset:
    """Examples from one or more files, with a report per file."""

    examples: list[Example]
    reports: list[SourceReport]
    skipped_files: list[str] = field(default_factory=list)


def detect_format(path: Path) -> str | None:
    """Recognise a file's format from its name and first line; None when unrecognised."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "akismet-jsonl"
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except (UnicodeDecodeError, OSError):
        return None
    if first.startswith(("ham\t", "spam\t")):
        return "sms"
    header = next(csv.reader([first]), [])
    if [h.strip().lstrip("\ufeff") for h in header] == YOUTUBE_HEADER:
        return "youtube"
    if "comment_content" in header and "label" in header:
        return "akismet-csv"
    return None


def _source_name(path: Path, fmt: str) -> str:
    return fmt if fmt in ("youtube", "sms") else path.stem


def _example(report: SourceReport, comment: dict[str, str], label: int, line: int) -> Example:
    return Example(
        comment=comment,
        label=label,
        source=report.source,
        file=report.path,
        line=line,
        row_index=report.read - 1,
        key=normalise_text(comment.get("comment_content", "")),
    )


def _csv_rows(path: Path, encoding: str, report: SourceReport) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) of each non-blank data row; count unreadable ones.

    The header is yielded first, as line 1.
    """
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        yield 1, header
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                report.read += 1
                report.reject(line, f"unreadable CSV row ({exc})")
                continue
            if row:
                report.read += 1
                yield line, row


def _read_youtube(path: Path, report: SourceReport) -> Iterator[Example]:
    rows = _csv_rows(path, "utf-8", report)
    next(rows)
    for line, row in rows:
        if len(row) != len(YOUTUBE_HEADER):
            report.reject(line, f"expected {len(YOUTUBE_HEADER)} columns, found {len(row)}")
        elif row[4].strip() not in ("0", "1"):
            report.reject(line, f"CLASS must be 0 or 1, found {row[4]!r}")
        elif not normalise_text(row[3]):
            report.reject(line, "empty CONTENT")
        else:
            # DATE (row[2]) is left out on purpose: it leaks the label in the Eminem file.
            comment = {"comment_content": row[3], "comment_author": row[1]}
            yield _example(report, comment, int(row[4]), line)


def _read_sms(path: Path, report: SourceReport) -> Iterator[Example]:
    # Split on the first TAB by hand: the texts contain unbalanced quotes.
    with path.open(encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.rstrip("\r\n")
            if not text:
                continue
            report.read += 1
            label, tab, content = text.partition("\t")
            if not tab or label not in _LABELS:
                report.reject(number, "expected `ham<TAB>text` or `spam<TAB>text`")
            elif not normalise_text(content):
                report.reject(number, "empty message")
            else:
                yield _example(report, {"comment_content": content}, _LABELS[label], number)


def _akismet_row(row: dict[str, object], report: SourceReport, line: int) -> Example | None:
    label = str(row.get("label") or "").strip().lower()
    if label not in _LABELS:
        report.reject(line, f"label must be 'spam' or 'ham', found {row.get('label')!r}")
        return None
    comment = {k: str(row[k]) for k in COMMENT_FIELDS if row.get(k) not in (None, "")}
    if not normalise_text(comment.get("comment_content", "")):
        report.reject(line, "empty comment_content")
        return None
    return _example(report, comment, _LABELS[label], line)


def _read_akismet_csv(path: Path, report: SourceReport) -> Iterator[Example]:
    rows = _csv_rows(path, "utf-8-sig", report)
    _, header = next(rows)
    for line, row in rows:
        if len(row) > len(header):
            report.reject(line, "more fields than the header has")
            continue
        example = _akismet_row(dict(zip(header, row, strict=False)), report, line)
        if example:
            yield example


def _read_akismet_jsonl(path: Path, report: SourceReport) -> Iterator[Example]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            report.read += 1
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                report.reject(number, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                report.reject(number, "expected a JSON object")
                continue
            example = _akismet_row(row, report, number)
            if example:
                yield example


_READERS = {
    "youtube": _read_youtube,
    "sms": _read_sms,
    "akismet-csv": _read_akismet_csv,
    "akismet-jsonl": _read_akismet_jsonl,
}


def load_file(path: Path, fmt: str | None = None) -> tuple[list[Example], SourceReport]:
    """Read one file (format detected unless given); return its examples and report.

    :raises DataError: when the file is missing, unreadable or of an unknown format.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    if fmt not in _READERS:
        raise DataError(
            f"{path}: unrecognised format; name it with --format ({', '.join(FORMATS)})"
        )
    report = SourceReport(str(path), fmt, _source_name(path, fmt), file_sha256(path))
    try:
        examples = list(_READERS[fmt](path, report))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from exc
    report.kept = len(examples)
    return examples, report


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Expand folders into the files they hold that have a known format; list the others."""
    files: list[Path] = []
    skipped: list[str] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        for child in sorted(p for p in path.iterdir() if p.is_file()):
            if detect_format(child):
                files.append(child)
            else:
                skipped.append(str(child))
    return files, skipped


def deduplicate(examples: list[Example], reports: Iterable[SourceReport] = ()) -> list[Example]:
    """Keep the first example of each normalised text; count the rest in their file's report.

    A repeat with the other label is rejected (and reported), not kept.
    """
    by_path = {r.path: r for r in reports}
    first: dict[str, Example] = {}
    kept: list[Example] = []
    for example in examples:
        seen = first.get(example.key)
        if seen is None:
            first[example.key] = example
            kept.append(example)
            continue
        report = by_path.get(example.file)
        if report is None:
            continue
        report.kept -= 1
        if seen.label == example.label:
            report.duplicates += 1
        else:
            report.reject(example.line, f"same text as {seen.origin} with the other label")
    return kept


def load_dataset(paths: Iterable[Path], fmt: str | None = None, dedupe: bool = True) -> Dataset:
    """Load every file (folders expanded) and, unless told not to, drop duplicate texts."""
    paths = list(paths)
    files, skipped = expand_paths(paths)
    if not files:
        raise DataError("no data files found in " + ", ".join(map(str, paths)))
    examples: list[Example] = []
    reports: list[SourceReport] = []
    for path in files:
        found, report = load_file(path, fmt)
        examples += found
        reports.append(report)
    if dedupe:
        examples = deduplicate(examples, reports)
    return Dataset(examples, reports, skipped)
