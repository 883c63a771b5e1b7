"""Statistics for the moderation pages: checks per day by decision, and corrections per day.

Pure query functions over a session: one grouped query each, on SQLite and PostgreSQL alike.
Days are UTC calendar days of a check's `created_at` (when the model decided it), and a range
`since`..`until` includes both ends. Test checks (`is_test`) are never counted. Every site asked
for (or, with `site_ids=None`, every site with checks in the range) gets one entry per day of the
range, zeros included, so a chart needs no gap filling. `chart_svg` draws the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.orm import Session

from model import Decision
from service.models import Check, Label, LabelSource
from service.svg_chart import ChartDataMismatch, chart_svg

__all__ = [
    "ChartDataMismatch",
    "Corrections",
    "DayCorrections",
    "DayCounts",
    "chart_svg",
    "corrections",
    "count_series",
    "daily_counts",
    "days_between",
]


@dataclass(frozen=True)
class DayCounts:
    """Checks of one site on one day by what the model decided.

    The four counts are disjoint and add up to every check of the day: `spam` holds the spam
    decisions that were kept for the site, `discarded` those so sure they were discarded.
    Checks a moderator deleted are still counted: the model decided them.
    """

    day: date
    ham: int = 0
    unsure: int = 0
    spam: int = 0
    discarded: int = 0

    @property
    def total(self) -> int:
        """Every check of the day."""
        return self.ham + self.unsure + self.spam + self.discarded


@dataclass(frozen=True)
class Corrections:
    """Human labels set against the model's decision, from one source (moderators or the site).

    - `false_positives`: the model said spam (discarded or not), the label is ham;
    - `false_negatives`: the model said ham, the label is spam;
    - `unsure_ham`, `unsure_spam`: an unsure decision resolved as ham, or as spam (counted
      apart: resolving unsure checks is the queue's job, not a model mistake);
    - `confirmed`: the label agrees with a ham or spam decision.
    """

    false_positives: int = 0
    false_negatives: int = 0
    unsure_ham: int = 0
    unsure_spam: int = 0
    confirmed: int = 0

    @property
    def labelled(self) -> int:
        """Every labelled check counted here."""
        return (
            self.false_positives
            + self.false_negatives
            + self.unsure_ham
            + self.unsure_spam
            + self.confirmed
        )


@dataclass(frozen=True)
class DayCorrections:
    """Labels on one site's checks of one day: moderators' and the site's own, apart.

    The day is the check's (when the model decided), not the label's: a correction made later
    changes the day the mistake was made, so rates against `DayCounts` of that day hold.
    Only a check's current label counts (an undone decision no longer does); a check has at most
    one label, so a site label replaced by a moderator's counts as the moderator's.
    """

    day: date
    moderator: Corrections = field(default_factory=Corrections)
    site: Corrections = field(default_factory=Corrections)


def days_between(since: date, until: date) -> list[date]:
    """Every day from `since` to `until`, both included (empty when until < since)."""
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def _utc_day(session: Session) -> ColumnElement[Any]:
    """The UTC calendar day of `checks.created_at`, as each database can compute it."""
    if session.get_bind().dialect.name == "postgresql":
        # timestamptz at time zone 'UTC' is the UTC wall time; no bound parameter, so the
        # same expression in SELECT and GROUP BY is recognised as one.
        return func.date(func.timezone(literal_column("'UTC'"), Check.created_at))
    # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
    return func.substr(Check.created_at, 1, 10)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _filtered(
    query: Select[Any], site_ids: Sequence[int] | None, since: date, until: date
) -> Select[Any]:
    start = datetime.combine(since, time(), UTC)
    end = datetime.combine(until + timedelta(days=1), time(), UTC)
    query = query.where(Check.is_test.is_(False), Check.created_at >= start, Check.created_at < end)
    if site_ids is not None:
        query = query.where(Check.site_id.in_(site_ids))
    return query


def _sites(site_ids: Sequence[int] | None, found: Iterable[int]) -> list[int]:
    return sorted(set(found) if site_ids is None else set(site_ids))


def daily_counts(
    session: Session, site_ids: Sequence[int] | None, since: date, until: date
) -> dict[int, list[DayCounts]]:
    """Checks per site and UTC day by decision; `site_ids=None` means every site."""
    if site_ids is not None and not site_ids:
        return {}
    day = _utc_day(session)
    query = _filtered(
        select(Check.site_id, day, Check.decision, Check.discard, func.count()),
        site_ids,
        since,
        until,
    ).group_by(Check.site_id, day, Check.decision, Check.discard)
    found: dict[tuple[int, date], DayCounts] = {}
    for site_id, raw_day, decision, discard, count in session.execute(query):
        key = (site_id, _as_date(raw_day))
        counts = found.get(key, DayCounts(key[1]))
        name = "discarded" if discard else Decision(decision).value
        found[key] = replace(counts, **{name: getattr(counts, name) + count})
    days = days_between(since, until)
    return {
        site: [found.get((site, d), DayCounts(d)) for d in days]
        for site in _sites(site_ids, (s for s, _ in found))
    }


def _kind(decision: str, label: str) -> str:
    if decision == Decision.UNSURE:
        return "unsure_ham" if label == Label.HAM else "unsure_spam"
    if decision == Decision.SPAM and label == Label.HAM:
        return "false_positives"
    if decision == Decision.HAM and label == Label.SPAM:
        return "false_negatives"
    return "confirmed"


def corrections(
    session: Session, site_ids: Sequence[int] | None, since: date, until: date
) -> dict[int, list[DayCorrections]]:
    """Labels against decisions per site and UTC day of the check (see `Corrections`)."""
    if site_ids is not None and not site_ids:
        return {}
    day = _utc_day(session)
    query = _filtered(
        select(Check.site_id, day, Check.decision, Check.label, Check.label_source, func.count()),
        site_ids,
        since,
        until,
    )
    query = query.where(Check.label.is_not(None)).group_by(
        Check.site_id, day, Check.decision, Check.label, Check.label_source
    )
    found: dict[tuple[int, date], DayCorrections] = {}
    for site_id, raw_day, decision, label, source, count in session.execute(query):
        key = (site_id, _as_date(raw_day))
        entry = found.get(key, DayCorrections(key[1]))
        side = "site" if source == LabelSource.SITE else "moderator"
        before: Corrections = getattr(entry, side)
        kind = _kind(decision, label)
        after = replace(before, **{kind: getattr(before, kind) + count})
        found[key] = (
            replace(entry, site=after) if side == "site" else replace(entry, moderator=after)
        )
    days = days_between(since, until)
    return {
        site: [found.get((site, d), DayCorrections(d)) for d in days]
        for site in _sites(site_ids, (s for s, _ in found))
    }


def count_series(days: Sequence[DayCounts]) -> list[tuple[str, list[float]]]:
    """One site's daily counts as `chart_svg` series: ham, unsure, spam, discarded."""
    return [
        (name, [float(getattr(d, name)) for d in days])
        for name in ("ham", "unsure", "spam", "discarded")
    ]
