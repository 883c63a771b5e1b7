"""The moderation queue, moderators' decisions and their undo, independent of the web pages.

Every decision is a conditional UPDATE (only while the check is still undecided), so when two
moderators act on the same check the second is told who was first instead of winning silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    and_,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from service import webhooks
from service.models import (
    Action,
    Check,
    Decision,
    Label,
    LabelSource,
    Site,
    as_utc,
    utc_now,
)
from service.users import Moderator

QUEUE_DECISIONS = ("unsure", "spam")
DECISION_FILTERS = ("queue", "unsure", "spam", "ham")
PAGE_SIZE = 100
HISTORY_PAGE_SIZE = 50
MAX_BULK = 500
UNDO_WINDOW = timedelta(hours=1)
_LABEL_OF = {Action.APPROVE: Label.HAM.value, Action.SPAM: Label.SPAM.value, Action.DELETE: None}


@dataclass(frozen=True)
class QueueFilter:
    """What the moderator asked the queue to show."""

    decision: str = "queue"  # unsure and spam; or only one of unsure, spam, ham
    site_id: int | None = None
    min_probability: float | None = None
    max_probability: float | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    page: int = 1


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue and the counts per decision under the same filters."""

    checks: list[Check]
    counts: dict[str, int]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class ItemResult:
    """What became of one check in a (bulk) action."""

    check_id: int
    done: bool
    message: str = ""


@dataclass
class ActionReport:
    """The outcome of one moderator request over one or many checks."""

    action: Action
    results: list[ItemResult] = field(default_factory=list)

    @property
    def done(self) -> list[int]:
        """Ids of the checks this request decided."""
        return [r.check_id for r in self.results if r.done]

    @property
    def refused(self) -> list[ItemResult]:
        """The checks this request could not decide, with why."""
        return [r for r in self.results if not r.done]


def _undecided() -> ColumnElement[bool]:
    return and_(Check.label.is_(None), Check.deleted_at.is_(None))


def _visible(moderator: Moderator) -> ColumnElement[bool]:
    if moderator.site_ids is None:
        return true()
    return Check.site_id.in_(sorted(moderator.site_ids))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _shared_conditions(moderator: Moderator, wanted: QueueFilter) -> list[ColumnElement[bool]]:
    """Conditions of the queue except the decision itself (the counts group by it)."""
    conditions = [_visible(moderator), _undecided()]
    if wanted.site_id is not None:
        conditions.append(Check.site_id == wanted.site_id)
    if wanted.min_probability is not None:
        conditions.append(Check.probability >= wanted.min_probability)
    if wanted.max_probability is not None:
        conditions.append(Check.probability <= wanted.max_probability)
    if wanted.since is not None:
        conditions.append(Check.created_at >= wanted.since)
    if wanted.until is not None:
        conditions.append(Check.created_at < wanted.until)
    if wanted.text.strip():
        pattern = _like_pattern(wanted.text.strip())
        # What WordPress's comment search covers. Email and URL are read out of the fields
        # JSON as text, so field names never match and non-ASCII text is not JSON-escaped.
        searched = (
            Check.content,
            Check.author,
            Check.user_ip,
            Check.fields["comment_author_email"].as_string(),
            Check.fields["comment_author_url"].as_string(),
        )
        conditions.append(or_(*(func.lower(c).like(pattern, escape="\\") for c in searched)))
    return conditions


# The partial index ix_checks_queue's condition, written out literally: SQLite uses a partial
# index only when the query's WHERE contains the index's terms as they are, not as parameters.
# No parentheses either: SQLite then no longer sees the terms. Only ever AND it with others.
_QUEUED = literal_column(
    "checks.decision IN ('unsure', 'spam') AND NOT checks.discard "
    "AND checks.label IS NULL AND checks.deleted_at IS NULL",
    Boolean,
)


def _decision_condition(decision: str) -> ColumnElement[bool]:
    if decision == "queue":
        return _QUEUED
    if decision in QUEUE_DECISIONS:
        return and_(_QUEUED, Check.decision == decision)
    return Check.decision == "ham"


def queue_page(session: Session, moderator: Moderator, wanted: QueueFilter) -> QueuePage:
    """The checks waiting for review under `wanted`, newest first, one page of them.

    Counts are per decision under the same filters; unreviewed ham (most of the table) is only
    counted when it is what the moderator asked to see.
    """
    shared = _shared_conditions(moderator, wanted)
    counted = select(Check.decision, func.count()).where(*shared)
    wants_ham = wanted.decision == "ham"
    counted = counted.where(_decision_condition("ham" if wants_ham else "queue"))
    counts = {d: 0 for d in ("unsure", "spam")} | ({"ham": 0} if wants_ham else {})
    counts.update({d: n for d, n in session.execute(counted.group_by(Check.decision))})
    total = sum(counts.values()) if wanted.decision in ("queue", "ham") else counts[wanted.decision]
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, wanted.page), pages)
    query = (
        select(Check)
        .where(*shared, _decision_condition(wanted.decision))
        .order_by(Check.created_at.desc(), Check.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    if wanted.decision != "ham":
        # Without statistics SQLite picks the decision index and sorts every waiting row;
        # the partial index is already in created_at order and stops after one page.
        query = query.with_hint(Check, "INDEXED BY ix_checks_queue", "sqlite")
    return QueuePage(list(session.scalars(query)), counts, total, page, pages)


def visible_sites(session: Session, moderator: Moderator) -> list[Site]:
    """The sites this moderator may see, by URL."""
    query = select(Site).order_by(Site.url)
    if moderator.site_ids is not None:
        query = query.where(Site.id.in_(sorted(moderator.site_ids)))
    return list(session.scalars(query))


def _who_decided(session: Session, check_ids: Sequence[int]) -> dict[int, str]:
    """For checks decided already: who decided each (a moderator, or the site)."""
    if not check_ids:
        return {}
    rows = session.execute(
        select(Check.id, Check.label, Check.label_source, Check.labelled_by).where(
            Check.id.in_(check_ids)
        )
    )
    who: dict[int, str] = {}
    for check_id, label, source, by in rows:
        if label is not None:
            who[check_id] = by if source == LabelSource.MODERATOR.value and by else "the site"
    deleted = [i for i in check_ids if i not in who]
    if deleted:
        last = session.execute(
            select(Decision.check_id, Decision.user_name)
            .where(Decision.check_id.in_(deleted))
            .order_by(Decision.id)
        )
        who.update({check_id: name for check_id, name in last})
    return who


def decide(
    session: Session, moderator: Moderator, check_ids: Iterable[int], action: Action
) -> ActionReport:
    """Apply `action` to every still-undecided visible check in `check_ids`, in one transaction.

    Writes the audit row and queues the site's webhook for each; checks another moderator
    decided first are reported with that moderator's name, unknown or hidden ones as not found.
    """
    if action is Action.UNDO:
        raise ValueError("an undo names a decision: use undo()")
    wanted = sorted(set(check_ids))
    now = utc_now()
    label = _LABEL_OF[action]
    values: dict[str, Any] = (
        {"deleted_at": now}
        if label is None
        else {
            "label": label,
            "label_source": LabelSource.MODERATOR.value,
            "labelled_at": now,
            "labelled_by": moderator.name,
        }
    )
    report = ActionReport(action)
    if not wanted:
        return report
    statement = (
        update(Check)
        .where(Check.id.in_(wanted), _visible(moderator), _undecided())
        .values(**values)
        .returning(Check.id)
        .execution_options(synchronize_session=False)
    )
    done = set(session.scalars(statement))
    if done:
        session.execute(
            insert(Decision),
            [
                {
                    "check_id": check_id,
                    "user_id": moderator.id,
                    "user_name": moderator.name,
                    "action": action.value,
                    "previous_label": None,
                    "previous_label_source": None,
                    "previous_deleted": False,
                    "created_at": now,
                }
                for check_id in sorted(done)
            ],
        )
        decided = session.scalars(
            select(Check)
            .where(Check.id.in_(sorted(done)))
            .execution_options(populate_existing=True)
        )
        for check in decided:
            webhooks.enqueue_decision(session, check, action.value, moderator.name)
    others = [i for i in wanted if i not in done]
    seen = set(
        session.scalars(select(Check.id).where(Check.id.in_(others), _visible(moderator)))
        if others
        else []
    )
    who = _who_decided(session, sorted(seen))
    session.commit()
    for check_id in wanted:
        if check_id in done:
            report.results.append(ItemResult(check_id, True))
        elif check_id in seen:
            by = who.get(check_id, "someone else")
            report.results.append(ItemResult(check_id, False, f"already decided by {by}"))
        else:
            report.results.append(ItemResult(check_id, False, "not found"))
    return report


class UndoRefused(Exception):
    """An undo that cannot be done; the message says why."""


def undoable(decision: Decision, moderator: Moderator, now: datetime | None = None) -> bool:
    """Whether the history page offers `moderator` an undo of `decision` (checked again on POST)."""
    if decision.action == Action.UNDO.value or decision.undone_by is not None:
        return False
    if moderator.is_admin:
        return True
    recent = (now or utc_now()) - as_utc(decision.created_at) <= UNDO_WINDOW
    return decision.user_id == moderator.id and recent


def undo(session: Session, moderator: Moderator, decision_id: int) -> Decision:
    """Restore the check to its state before `decision_id`, audited and sent as a webhook.

    :raises UndoRefused: unknown or hidden decision, not the moderator's own (unless admin),
        too old, undone already, an undo itself, or superseded by a later change of the check.
    """
    decision = session.get(Decision, decision_id)
    check = session.get(Check, decision.check_id) if decision is not None else None
    if decision is None or check is None or not moderator.may_see(check.site_id):
        raise UndoRefused(f"no decision {decision_id}")
    if decision.action == Action.UNDO.value:
        raise UndoRefused("an undo cannot be undone: decide the comment again instead")
    if decision.undone_by is not None:
        raise UndoRefused(f"decision {decision_id} was undone already")
    if not moderator.is_admin and decision.user_id != moderator.id:
        raise UndoRefused("only an admin may undo another moderator's decision")
    if not undoable(decision, moderator):
        raise UndoRefused(f"decision {decision_id} is older than {UNDO_WINDOW}: ask an admin")
    action = Action(decision.action)
    label = _LABEL_OF[action]
    # The check must still be exactly as this decision left it, and nothing decided since.
    later = exists().where(Decision.check_id == check.id, Decision.id > decision.id)
    as_left = (
        and_(Check.label.is_(None), Check.deleted_at.is_not(None))
        if label is None
        else and_(
            Check.label == label,
            Check.label_source == LabelSource.MODERATOR.value,
            Check.labelled_by == decision.user_name,
            Check.deleted_at.is_(None),
        )
    )
    now = utc_now()
    restored = session.execute(
        update(Check)
        .where(Check.id == check.id, as_left, ~later)
        .values(
            label=decision.previous_label,
            label_source=decision.previous_label_source,
            labelled_at=None,
            labelled_by=None,
            deleted_at=now if decision.previous_deleted else None,
        )
        .execution_options(synchronize_session=False)
    )
    if restored.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise UndoRefused(f"decision {decision_id} was superseded by a later change of the check")
    record = Decision(
        check_id=check.id,
        user_id=moderator.id,
        user_name=moderator.name,
        action=Action.UNDO.value,
        previous_label=label,
        previous_label_source=None if label is None else LabelSource.MODERATOR.value,
        previous_deleted=label is None,
        created_at=now,
    )
    session.add(record)
    session.flush()
    marked = session.execute(
        update(Decision)
        .where(Decision.id == decision.id, Decision.undone_by.is_(None))
        .values(undone_by=record.id)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise UndoRefused(f"decision {decision_id} was undone already")
    session.refresh(check)
    webhooks.enqueue_decision(session, check, Action.UNDO.value, moderator.name)
    session.commit()
    return record


@dataclass(frozen=True)
class HistoryPage:
    """One page of the audit log with the checks it is about."""

    rows: list[tuple[Decision, Check]]
    page: int
    pages: int


def history_page(session: Session, moderator: Moderator, page: int) -> HistoryPage:
    """The audit log, newest first, limited to the moderator's sites."""
    conditions = [_visible(moderator)]
    total = session.scalar(
        select(func.count()).select_from(Decision).join(Check).where(*conditions)
    )
    pages = max(1, -(-(total or 0) // HISTORY_PAGE_SIZE))
    page = min(max(1, page), pages)
    query = (
        select(Decision, Check)
        .join(Check, Decision.check_id == Check.id)
        .where(*conditions)
        .order_by(Decision.id.desc())
        .limit(HISTORY_PAGE_SIZE)
        .offset((page - 1) * HISTORY_PAGE_SIZE)
    )
    return HistoryPage([(d, c) for d, c in session.execute(query)], page, pages)
