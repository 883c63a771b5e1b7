"""Checking a comment: test triggers, honeypot, site rules, then the model; every check stored."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from model import COMMENT_FIELDS, Decision, SpamModel, Thresholds
from model import decide as decide_probability
from service.bulk_insert import insert_checks
from service.check_ids import CheckIds
from service.models import Check, Label, LabelSource, Site, utc_now
from service.rules import RuleSpec, first_match
from service.sites import CachedSite, site_rules, site_thresholds
from service.writer import CheckWriter, WriterBacklogged

# Akismet's documented test triggers.
GUARANTEED_SPAM_AUTHORS = frozenset({"akismet-guaranteed-spam", "viagra-test-123"})
GUARANTEED_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"
HAM_ROLE = "administrator"
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


class CheckOutcome(NamedTuple):
    """The answer for one check, as stored.

    This and Verdict are named tuples, not frozen dataclasses: two are built per check, and a
    frozen dataclass's __init__ costs about 6 us against 3.5 with the caches cold, as they are
    between requests under load.
    """

    id: int | None  # None while a row queued without an id waits in the writer
    guid: str
    probability: float
    decision: Decision
    discard: bool
    explanation: dict[str, Any]
    model_version: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON API's view of a check's verdict."""
        return {
            "id": self.id,
            "guid": self.guid,
            "probability": self.probability,
            "decision": str(self.decision),
            "discard": self.discard,
            "explanation": self.explanation,
            "model_version": self.model_version,
        }


class Verdict(NamedTuple):
    """What decided, before storing."""

    probability: float
    decision: Decision
    discard: bool
    explanation: dict[str, Any]


def _fixed(decision: Decision, reason: str) -> Verdict:
    probability = 1.0 if decision is Decision.SPAM else 0.0
    return Verdict(probability, decision, False, {"tokens": [], "signals": [], "rules": [reason]})


def _special_case(fields: Mapping[str, str]) -> Verdict | None:
    """Akismet's test triggers and the honeypot, which decide without the model."""
    author = fields.get("comment_author", "").strip().lower()
    email = fields.get("comment_author_email", "").strip().lower()
    if author in GUARANTEED_SPAM_AUTHORS or email == GUARANTEED_SPAM_EMAIL:
        return _fixed(Decision.SPAM, "test trigger: guaranteed spam")
    if fields.get("user_role", "").strip().lower() == HAM_ROLE:
        return _fixed(Decision.HAM, "test trigger: user_role=administrator")
    honeypot = fields.get("honeypot_field_name", "").strip()
    if honeypot and fields.get(honeypot, "").strip():
        return _fixed(Decision.SPAM, f"honeypot field {honeypot!r} was filled")
    return None


def model_comment(fields: Mapping[str, str]) -> dict[str, str]:
    """The fields the model reads, from everything a site sent."""
    return {k: fields[k] for k in COMMENT_FIELDS if fields.get(k)}


def decide(
    model: SpamModel,
    fields: Mapping[str, str],
    rules: list[RuleSpec],
    thresholds: Thresholds | None,
    explain: bool = True,
) -> Verdict:
    """Decide one comment: special cases, then the site's rules, then the model.

    Without `explain` the explanation is left for whoever reads the check (`explanation_of`):
    it costs more than the probability, and comment-check's answer does not carry it.
    """
    special = _special_case(fields)
    if special is not None:
        return special
    comment = model_comment(fields)
    if explain:
        verdict = model.check(comment, thresholds)
        probability, decision, discard = verdict.probability, verdict.decision, verdict.discard
        explanation: dict[str, Any] = {**verdict.explanation.as_dict(), "rules": []}
    else:
        probability = model.fast.probability(comment)
        decision, discard = decide_probability(probability, thresholds or model.card.thresholds)
        explanation = {"deferred": True, "rules": []}
    rule = first_match(rules, fields) if rules else None  # most sites have no rules
    if rule is None:
        return Verdict(probability, decision, discard, explanation)
    decision = Decision.SPAM if rule.list == "block" else Decision.HAM
    explanation["rules"] = [f"{rule.describe()} decided {decision.value}"]
    return Verdict(probability, decision, False, explanation)


def explanation_of(model: SpamModel, check: Check) -> dict[str, Any]:
    """A stored check's explanation, computed now when it was deferred at check time."""
    stored = dict(check.explanation or {})
    if not stored.pop("deferred", False):
        return stored
    if check.model_version != model.version:
        return {
            **stored,
            "tokens": [],
            "signals": [],
            "unavailable": f"model {check.model_version} is not loaded",
        }
    _, explanation = model.fast.score(model_comment(check.fields))
    return {**explanation.as_dict(), **stored}


def thresholds_for(site: Site | CachedSite, default: Thresholds | None) -> Thresholds | None:
    """A site's own thresholds, else the service's, else None (the model card's)."""
    own = site.thresholds if isinstance(site, CachedSite) else site_thresholds(site)
    return own or default


def rule_specs(session: Session, site: Site) -> list[RuleSpec]:
    """The site's rules in matching form."""
    return [RuleSpec(r.list, r.field, r.value) for r in site_rules(session, site.id)]


def new_guid() -> str:
    """A time-ordered (version 7) UUID, as Akismet's X-akismet-guid.

    The milliseconds first, then 74 random bits: new guids sort after older ones, so each
    insert lands at the right edge of the guid index instead of on a random page. Random
    (version 4) guids dirtied a page of the index per row, which every commit had to write:
    about 10 us of the writer's CPU per stored check on SQLite, under load.

    Drawn from `random`, not `os.urandom`: the guid is an identifier, not a secret (feedback
    by guid only reaches the sending site's own checks), and urandom releases the GIL on every
    call, handing it to the writer thread mid-request. `random` is reseeded in each forked
    worker, so workers do not repeat each other's guids.
    """
    random_bits = random.getrandbits(74)
    # Python 3.11's uuid module has no uuid7, and refuses version=7: the bits are laid out here,
    # and written out as text directly. `str(uuid.UUID(int=...))` gave the same text through
    # the UUID class's checks: 22 against 13 us a guid with a 4 MB sweep of memory between
    # calls, which leaves the caches as cold as they are between requests under load.
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 7 << 76  # version
        | (random_bits >> 62) << 64
        | 2 << 62  # RFC 9562's variant
        | random_bits & ((1 << 62) - 1)
    )
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def check_row(
    site_id: int,
    fields: Mapping[str, str],
    verdict: Verdict,
    model_version: str,
    via: str,
    created_at: datetime | None = None,
    check_id: int | None = None,
) -> dict[str, Any]:
    """The `checks` row of one answered comment, with a fresh guid.

    Its id comes from CheckIds: given here when the answer must carry it, else taken when the
    row is stored (so that a queued check needs no database until then).
    """
    row = {
        "guid": new_guid(),
        "site_id": site_id,
        "created_at": created_at or utc_now(),
        "via": via,
        "fields": dict(fields),
        "content": fields.get("comment_content", ""),
        "author": fields.get("comment_author", "")[:500],
        "user_ip": fields.get("user_ip", "")[:64],
        "probability": verdict.probability,
        "decision": str(verdict.decision),  # its value: str() skips the enum's property
        "discard": verdict.discard,
        "explanation": verdict.explanation,
        "model_version": model_version,
        "is_test": fields.get("is_test", "").strip().lower() in TRUE_VALUES,
    }
    if check_id is not None:
        row["id"] = check_id
    return row


def outcome_of(row: Mapping[str, Any], decision: Decision) -> CheckOutcome:
    """The answer for a check row, which holds `decision` as text (no id while queued without
    one). The member is passed in: finding it by its text runs the enum's Python code."""
    return CheckOutcome(
        row.get("id"),
        row["guid"],
        row["probability"],
        decision,
        row["discard"],
        row["explanation"],
        row["model_version"],
    )


def store_check(
    session: Session, ids: CheckIds, row: dict[str, Any], decision: Decision
) -> CheckOutcome:
    """Store one check row, whose decision is `decision`, and commit; return it as answered."""
    if "id" not in row:
        row["id"] = ids.take()[0]
    # The same insert as the writer's and the batch's, so every stored check is written alike.
    insert_checks(session.connection(), [row])
    session.commit()
    return outcome_of(row, decision)


def find_check_for_feedback(
    session: Session, site: Site | CachedSite, fields: Mapping[str, str], guid: str = ""
) -> Check | None:
    """The stored check a submit-spam/ham is about: by guid, else by content, author and IP."""
    query = select(Check).where(Check.site_id == site.id)
    if guid:
        return session.scalar(query.where(Check.guid == guid))
    query = query.where(
        Check.content == fields.get("comment_content", ""),
        Check.author == fields.get("comment_author", "")[:500],
        Check.user_ip == fields.get("user_ip", "")[:64],
    )
    # Ids are not in time order across processes: the newest is the latest created.
    return session.scalar(query.order_by(Check.created_at.desc(), Check.id.desc()).limit(1))


def label_check(session: Session, check: Check, label: Label, source: LabelSource) -> None:
    """Record a human label on a stored check."""
    check.label, check.label_source, check.labelled_at = label.value, source.value, utc_now()
    check.labelled_by = (
        None  # a site's label has no moderator; a moderator's goes through moderation
    )
    session.commit()


def check_and_store(
    sessions: Callable[[], Session],
    site: Site | CachedSite,
    fields: Mapping[str, str],
    via: str,
    model: SpamModel,
    default_thresholds: Thresholds | None,
    ids: CheckIds,
    writer: CheckWriter | None = None,
    explain: bool = True,
    answer_id: bool = True,
) -> CheckOutcome:
    """Decide one comment for a site (cached or loaded) and store the check.

    With a writer the row is stored in the background; its id is taken now only if the answer
    carries it (`answer_id`), else by the writer, so that a queued check needs no database
    while it is down. Without `explain` the explanation is computed when the check is read.
    `sessions` gives the session to use, opened only when needed.
    """
    rules = list(site.rules) if isinstance(site, CachedSite) else rule_specs(sessions(), site)
    verdict = decide(model, fields, rules, thresholds_for(site, default_thresholds), explain)
    check_id = ids.take()[0] if answer_id else None
    row = check_row(site.id, fields, verdict, model.version, via, check_id=check_id)
    if writer is not None:
        try:
            writer.submit(row)
            return outcome_of(row, verdict.decision)
        except WriterBacklogged:
            pass  # store in-line: it succeeds, or fails loudly if the database is down
    return store_check(sessions(), ids, row, verdict.decision)
