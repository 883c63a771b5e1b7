"""The moderation pages for signed-in moderators and admins: the queue, actions, history, undo."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from model import SpamModel
from service.checking import explanation_of
from service.context import get_model
from service.db import get_session
from service.models import Action, Check
from service.moderation import (
    DECISION_FILTERS,
    MAX_BULK,
    ActionReport,
    QueueFilter,
    UndoRefused,
    decide,
    history_page,
    queue_page,
    undo,
    undoable,
    visible_sites,
)
from service.security import sign_in_required
from service.users import Moderator

bp = Blueprint("moderate", __name__, url_prefix="/moderate")

FILTER_KEYS = ("decision", "site", "min", "max", "since", "until", "q", "page")
# Words as the highlighter sees them; the model's tokens are lower-case words.
_WORD = re.compile(r"\w+", re.UNICODE)
_CHUNK = re.compile(r"\S+", re.UNICODE)
_SHOWN_REFUSALS = 10


def me() -> Moderator:
    """The signed-in person."""
    moderator: Moderator = current_user._get_current_object()
    return moderator


def safe_link(url: str) -> str | None:
    """`url` when it is an http(s) URL with a host, which may become a link; else None."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c.isspace() or ord(c) < 32 for c in url):
        return None
    return url


@dataclass(frozen=True)
class Segment:
    """A piece of comment text, marked when the model weighed it (`spammy` or `hammy`)."""

    text: str
    mark: str = ""
    weight: float = 0.0

    @property
    def title(self) -> str:
        """The weight as the page shows it on hover."""
        return f"{self.weight:+.3f}"


def highlight(text: str, token_weights: dict[str, float]) -> list[Segment]:
    """Split `text` into plain and weighed pieces; the template escapes every piece.

    A token is a whole white-space separated chunk (a URL, as the char n-grams see it) or a
    word inside one (as the word n-grams see it).
    """
    segments: list[Segment] = []
    position = 0

    def mark(start: int, end: int, weight: float) -> None:
        nonlocal position
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], "spammy" if weight > 0 else "hammy", weight))
        position = end

    for chunk in _CHUNK.finditer(text):
        weight = token_weights.get(chunk.group().lower())
        if weight:
            mark(chunk.start(), chunk.end(), weight)
            continue
        for word in _WORD.finditer(chunk.group()):
            weight = token_weights.get(word.group().lower())
            if weight:
                mark(chunk.start() + word.start(), chunk.start() + word.end(), weight)
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


@dataclass(frozen=True)
class QueueItem:
    """One check as the queue shows it."""

    check: Check
    site: str
    email: str
    url: str
    url_link: str | None
    permalink: str
    permalink_link: str | None
    user_agent: str
    segments: list[Segment]
    tokens: list[dict[str, Any]]
    signals: list[Segment]
    rules: list[str]
    unavailable: str


class ExplanationCache:
    """Recently computed explanations of checks whose explanation was deferred, per process.

    Computing one costs about a millisecond; after each action the queue page shows again with
    mostly the same items, so they are kept (keyed by check and model version, bounded).
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model: SpamModel, check: Check) -> dict[str, Any]:
        """The check's explanation, computed now only when deferred and not seen lately."""
        if not (check.explanation or {}).get("deferred"):
            return explanation_of(model, check)
        key = (check.id, model.version)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        explanation = explanation_of(model, check)
        with self._lock:
            self._entries[key] = explanation
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return explanation


@bp.record_once
def _add_explanation_cache(state: BlueprintSetupState) -> None:
    state.app.extensions["spamward.explanations"] = ExplanationCache()


def queue_item(check: Check, site_urls: dict[int, str]) -> QueueItem:
    """Gather what the page shows of one check, with its explanation (computed if deferred)."""
    cache: ExplanationCache = current_app.extensions["spamward.explanations"]
    explanation = cache.get(get_model(), check)
    tokens = [t for t in explanation.get("tokens", []) if isinstance(t, dict)]
    weights = {str(t.get("token", "")).lower(): float(t.get("weight", 0.0)) for t in tokens}
    fields = check.fields or {}
    url = str(fields.get("comment_author_url", ""))
    permalink = str(fields.get("permalink", ""))
    return QueueItem(
        check=check,
        site=site_urls.get(check.site_id, str(check.site_id)),
        email=str(fields.get("comment_author_email", "")),
        url=url,
        url_link=safe_link(url),
        permalink=permalink,
        permalink_link=safe_link(permalink),
        user_agent=str(fields.get("user_agent", "")),
        segments=highlight(check.content, weights),
        tokens=tokens,
        signals=[
            Segment(
                f"{s.get('signal', '')} {float(s.get('weight', 0.0)):+.2f}",
                "spammy" if float(s.get("weight", 0.0)) > 0 else "hammy",
            )
            for s in explanation.get("signals", [])
            if isinstance(s, dict)
        ],
        rules=[str(r) for r in explanation.get("rules", [])],
        unavailable=str(explanation.get("unavailable", "")),
    )


def _number(raw: str, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _day(raw: str) -> datetime | None:
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def read_filter(args: MultiDict[str, str]) -> tuple[QueueFilter, list[str]]:
    """The queue filter from the query string, and a message for each value not understood."""
    problems: list[str] = []

    def parsed(key: str, parse: Any, what: str) -> Any:
        raw = args.get(key, "").strip()
        if not raw:
            return None
        value = parse(raw)
        if value is None:
            problems.append(f"{key}: expected {what}, got {raw[:40]!r}; ignored")
        return value

    decision = args.get("decision", "queue")
    if decision not in DECISION_FILTERS:
        problems.append(f"decision: expected one of {', '.join(DECISION_FILTERS)}; ignored")
        decision = "queue"
    until = parsed("until", _day, "a date YYYY-MM-DD")
    page = parsed("page", lambda r: int(r) if r.isdigit() else None, "a page number")
    wanted = QueueFilter(
        decision=decision,
        site_id=parsed("site", lambda r: int(r) if r.isdigit() else None, "a site id"),
        min_probability=parsed("min", lambda r: _number(r, 0, 1), "a number from 0 to 1"),
        max_probability=parsed("max", lambda r: _number(r, 0, 1), "a number from 0 to 1"),
        since=parsed("since", _day, "a date YYYY-MM-DD"),
        until=until + timedelta(days=1) if until else None,  # the whole last day
        text=args.get("q", "").strip()[:200],
        page=page or 1,
    )
    return wanted, problems


def _kept_query(args: MultiDict[str, str], **changes: Any) -> str:
    """The queue's query string with only the known keys, some of them changed."""
    kept = {k: args.get(k, "") for k in FILTER_KEYS if args.get(k, "")}
    kept.update({k: str(v) for k, v in changes.items()})
    return urlencode({k: v for k, v in kept.items() if v})


@bp.get("/")
@sign_in_required
def queue() -> ResponseReturnValue:
    """The checks waiting for a moderator, with filters, counts and one page of items."""
    session = get_session()
    wanted, problems = read_filter(request.args)
    for problem in problems:
        flash(problem, "error")
    moderator = me()
    sites = visible_sites(session, moderator)
    site_urls = {site.id: site.url for site in sites}
    page = queue_page(session, moderator, wanted)
    items = [queue_item(check, site_urls) for check in page.checks]
    return render_template(
        "moderate/queue.html",
        items=items,
        page=page,
        wanted=wanted,
        args=request.args,
        sites=sites,
        query=_kept_query(request.args),
        previous_query=_kept_query(request.args, page=page.page - 1),
        next_query=_kept_query(request.args, page=page.page + 1),
    )


def _report(report: ActionReport) -> None:
    done = len(report.done)
    if done:
        verb = {"approve": "Approved", "spam": "Marked as spam", "delete": "Deleted"}
        noun = "comment" if done == 1 else "comments"
        flash(f"{verb[report.action.value]}: {done} {noun}.", "info")
    for result in report.refused[:_SHOWN_REFUSALS]:
        flash(f"Comment {result.check_id}: {result.message}.", "error")
    if len(report.refused) > _SHOWN_REFUSALS:
        flash(f"{len(report.refused) - _SHOWN_REFUSALS} more could not be decided.", "error")


def _action_and_ids() -> tuple[Action | None, list[int]]:
    """The action and check ids from a queue form: one item's button, or a bulk action."""
    actions = {a.value: a for a in (Action.APPROVE, Action.SPAM, Action.DELETE)}
    item = request.form.get("item", "")
    if item:
        name, _, raw_id = item.partition(":")
        return actions.get(name), [int(raw_id)] if raw_id.isdigit() else []
    ids = [int(i) for i in request.form.getlist("check") if i.isdigit()]
    return actions.get(request.form.get("action", "")), ids


@bp.post("/decide")
@sign_in_required
def decide_checks() -> ResponseReturnValue:
    """Approve, mark as spam or delete one check or the selected ones, then back to the queue."""
    action, ids = _action_and_ids()
    back = url_for("moderate.queue")
    query = _kept_query(MultiDict(_back_args()))
    if query:
        back += "?" + query
    if action is None:
        flash("Choose approve, spam or delete.", "error")
    elif not ids:
        flash("Select at least one comment.", "error")
    elif len(ids) > MAX_BULK:
        flash(f"At most {MAX_BULK} comments at once.", "error")
    else:
        _report(decide(get_session(), me(), ids, action))
    return redirect(back)


def _back_args() -> list[tuple[str, str]]:
    return parse_qsl(request.form.get("back", ""))[: len(FILTER_KEYS)]


@bp.get("/history")
@sign_in_required
def history() -> ResponseReturnValue:
    """The audit log: who decided what and when, newest first (read-only)."""
    raw = request.args.get("page", "1")
    moderator = me()
    page = history_page(get_session(), moderator, int(raw) if raw.isdigit() else 1)
    return render_template(
        "moderate/history.html",
        page=page,
        undoable={d.id for d, _ in page.rows if undoable(d, moderator)},
    )


@bp.post("/history/<int(max=2147483647):decision_id>/undo")
@sign_in_required
def undo_decision(decision_id: int) -> ResponseReturnValue:
    """Undo one decision: the check goes back to how it was, and the undo is audited."""
    try:
        undo(get_session(), me(), decision_id)
        flash(f"Decision {decision_id} undone.", "info")
    except UndoRefused as exc:
        flash(f"Cannot undo: {exc}.", "error")
    return redirect(url_for("moderate.history"))
